"""The sync, audit and history commands: build options, run the engine, print the outcome."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from trainsync_tui.console import ConsoleSink, print_report, size, warn
from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.actors.suggest import did_you_mean, nearest_paths
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.config import Settings, load_settings
from trainsync_tui.engine.errors import ConfigError, TrainsyncError, UnknownActorError
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.plan.build import ConflictPolicy, Plan
from trainsync_tui.engine.plan.select import Selection
from trainsync_tui.engine.plan.unmatched import (
    no_match_message,
    patterns,
    typed,
    unmatched_patterns,
)
from trainsync_tui.engine.run.audit import Audit
from trainsync_tui.engine.run.history import RESTORE, HistoryEntry
from trainsync_tui.engine.run.kept import pending_resumes
from trainsync_tui.engine.run.report import KeptForResume, SyncReport, plan_to_json, plural
from trainsync_tui.engine.s3.fleet_listing import FleetListing

_T = TypeVar("_T")


def fleet_workers(settings: Settings) -> int:
    """Actors worked on at once by --all. A small actor's audit is a few round trips of
    waiting; one at a time, 1,000 actors cost 1,000 × that wait. Each actor's own listing
    and hashing still use their pools, so this stays small enough that the client's
    connection pool (concurrency × 2 + 4) is not outgrown."""
    return max(1, min(8, settings.concurrency // 2))


def each_actor(
    layouts: list[ActorLayout],
    work: Callable[[ActorLayout], _T],
    token: CancelToken,
    workers: int,
    fleet: FleetListing | None = None,
) -> Iterator[tuple[ActorLayout, _T | TrainsyncError]]:
    """(layout, what `work` returned or the TrainsyncError it raised), in the order of
    `layouts`, with up to `workers` actors in flight. The actors not started when the token
    is cancelled are left out. With a `fleet` listing under way, actors start in the order
    their listings complete, so no worker waits on an actor whose range is far behind."""
    not_started = object()

    def guarded(layout: ActorLayout) -> object:
        if token.cancelled:
            return not_started
        try:
            return work(layout)
        except TrainsyncError as exc:
            return exc

    if workers <= 1 or len(layouts) <= 1:
        for layout in layouts:
            result = guarded(layout)
            if result is not_started:
                return
            yield layout, result  # type: ignore[misc]
        return
    starting = list(range(len(layouts)))
    if fleet is not None:
        rank = {prefix: n for n, prefix in enumerate(fleet.order())}
        starting.sort(key=lambda i: rank.get(layouts[i].prefix, len(rank)))
    with ThreadPoolExecutor(workers, thread_name_prefix="actor") as pool:
        futures = {i: pool.submit(guarded, layouts[i]) for i in starting}
        try:
            for i, layout in enumerate(layouts):
                result = futures[i].result()
                if result is not_started:
                    return
                yield layout, result  # type: ignore[misc]
        finally:
            for future in futures.values():
                future.cancel()


def _engine(flags: dict[str, Any]) -> Engine:
    return Engine(load_settings(flags), who="trainsync cli")


class _PatternCheckingEngine(Engine):
    """The CLI's sync engine: an --only or --exclude that matches no file of the actor is an
    error (exit 2), not "nothing to do" (a cron job with a typo would never sync and never
    say so). Checked on the sync's own audit, so nothing is listed twice. With --all a pattern
    may fit some actors only: the command fails when one matched in no actor at all."""

    def __init__(self, settings: Settings, *, refuse: bool) -> None:
        super().__init__(settings, who="trainsync cli")
        self.refuse = refuse
        self.matched: set[tuple[str, str]] = set()
        self.nearest: dict[tuple[str, str], list[str]] = {}  # for each pattern that missed

    def plan(self, audit: Audit, options: SyncOptions) -> Plan:
        selection = options.selection
        if selection.only or selection.exclude:
            listings = audit.listings
            wrong = unmatched_patterns(listings, selection)
            self.matched.update(f for f in patterns(selection) if f not in wrong)
            paths = {*listings.local, *listings.remote, *listings.manifest}
            for flag in wrong:
                self.nearest.setdefault(flag, []).extend(nearest_paths(paths, flag[1]))
            if wrong and self.refuse:
                raise ConfigError(no_match_message(wrong, paths, audit.layout.name))
        return super().plan(audit, options)

    def never_matched(self) -> str | None:
        """For --all: the patterns that matched no file of any actor, as one line, or None."""
        wrong = [f for f in self.nearest if f not in self.matched]
        if not wrong:
            return None
        near = nearest_paths({p for f in wrong for p in self.nearest[f]}, wrong[0][1])
        where = f"; nearest: {', '.join(repr(p) for p in near)}" if near else ""
        verb = "matches" if len(wrong) == 1 else "match"
        return (
            f"{' and '.join(typed(f) for f in wrong)} {verb} no file of any actor{where}; "
            "check the pattern (paths are relative to training_data/)"
        )


def _options(args: argparse.Namespace) -> SyncOptions:
    max_delete = None
    if args.max_delete is not None:
        text = str(args.max_delete).strip()
        try:
            max_delete = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ConfigError(f"--max-delete {text!r}: give a share like 0.5 or 50%") from None
        if not 0 <= max_delete <= 1:
            raise ConfigError(f"--max-delete {text!r}: must be between 0 and 100%")
    return SyncOptions(
        dry_run=args.dry_run,
        delete_orphans=args.delete_orphans,
        conflict=ConflictPolicy(args.conflict),
        selection=Selection(only=args.only, exclude=args.exclude, direction=args.direction),
        force=args.force,
        max_delete=max_delete,
        rehash=args.verify,
        wait=args.wait,
    )


def _layouts(engine: Engine, target: tuple[str | None, str | None]) -> list[ActorLayout]:
    """The actors to work on; for --all, an S3 folder skipped for its name is a warning on
    stderr at once (so a run that fails later still shows it). Not in the --json object:
    SPEC §5 makes that one report per actor, keyed by actor name, and nothing else."""
    actor_id, actor_name = target
    if actor_name:
        return [engine.actor(actor_name, actor_id)]
    return [engine.actor(n) for n in engine.actor_names(on_skip=warn)]


def run_sync_command(
    args: argparse.Namespace, flags: dict[str, Any], target: tuple[str | None, str | None]
) -> int:
    from trainsync_tui.interrupt import Aborted, run_with_interrupt

    engine = _PatternCheckingEngine(load_settings(flags), refuse=not args.all)
    options = _options(args)
    actor_name = target[1]
    layouts = _layouts(engine, target)
    sink = ConsoleSink(verbose=args.verbose, progress=not args.no_progress and not args.json)
    cancel = CancelToken()
    reports: list[SyncReport] = []

    def job(token: CancelToken) -> None:
        if actor_name:
            engine.require_actor(layouts[0], token)  # a typo must not "succeed" with nothing to do
        if args.all and len(layouts) > 1 and not options.dry_run:
            # A fleet: actors with nothing to write are found side by side, from one listing
            # and without a lease each; only those with work are synced, one at a time.
            # Both listings run in the background, the uploads' first (one request that a
            # server answering in turn would otherwise hold behind the listing's pages): an
            # actor is looked at as soon as its part is listed.
            asking = ThreadPoolExecutor(1, thread_name_prefix="uploads")
            uploads = asking.submit(engine.fleet_uploads, layouts, token)
            asking.shutdown(wait=False)
            fleet = engine.list_fleet(layouts, token)

            def if_in_sync(layout: ActorLayout) -> SyncReport | None:
                return engine.sync_if_in_sync(
                    layout, options, cancel=token, sink=sink, fleet=fleet, uploading=uploads.result
                )

            found = each_actor(layouts, if_in_sync, token, fleet_workers(engine.settings), fleet)
        else:
            found = ((layout, None) for layout in layouts)
        for layout, done in found:
            if token.cancelled:
                break
            try:
                if isinstance(done, TrainsyncError):
                    raise done
                reports.append(done or engine.sync(layout, options, cancel=token, sink=sink))
            except TrainsyncError as exc:
                if exc.exit_code == 2 or not args.all:
                    if args.all:
                        token.cancel()  # the actors still being looked at stop with the run
                    raise
                failed = SyncReport(layout.name, layout.actor_id, dry_run=options.dry_run)
                failed.errors.append(str(exc))
                reports.append(failed)

    aborted = False
    try:
        run_with_interrupt(job, cancel)
    except Aborted:
        # The run's threads still use the engine (its hash cache): closing it under them
        # made each in-flight file fail with an AssertionError. Silence them instead.
        aborted = True
        sink.mute()
        engine.abort_runs()
        raise
    finally:
        sink.finish()
        if not aborted:
            engine.close()
    if not reports and not args.all:
        # Cancelled before the sync of the one actor began.
        layout = layouts[0]
        reports.append(SyncReport(layout.name, layout.actor_id, options.dry_run, cancelled=True))
    if args.json:
        if args.all:
            print(json.dumps({r.actor_name: r.to_json() for r in reports}))
        else:
            print(json.dumps(reports[0].to_json()))
    else:
        if args.all and not reports and not cancel.cancelled:
            print(f"no actors found in {engine.settings.actors_dir} or the bucket")
        for report in reports:
            print_report(report)
    if cancel.cancelled:
        return 130
    never = engine.never_matched()
    if never:
        print(f"trainsync: {never}", file=sys.stderr)
        return 2
    return max((r.exit_code for r in reports), default=0)


def run_audit_command(
    args: argparse.Namespace, flags: dict[str, Any], target: tuple[str | None, str | None]
) -> int:
    from trainsync_tui.interrupt import Aborted, run_with_interrupt

    engine = _engine(flags)
    actor_name = target[1]
    layouts = _layouts(engine, target)
    sink = ConsoleSink(verbose=False, progress=not args.json)
    results: dict[str, dict[str, Any]] = {}

    def job(token: CancelToken) -> None:
        # One listing of every actor's objects, not a walk per actor (a fleet of small
        # actors was a few round trips each); an actor it misses lists its own prefix.
        fleet = engine.list_fleet(layouts, token) if len(layouts) > 1 else None

        def summarise(layout: ActorLayout) -> dict[str, Any]:
            audit = engine.audit(layout, rehash=args.verify, cancel=token, sink=sink, fleet=fleet)
            summary = plan_to_json(engine.plan(audit, SyncOptions()))
            summary.update(actor_name=layout.name, actor_id=layout.actor_id)
            client, bucket = engine.client_for(token), engine.settings.require_bucket()
            summary["kept_for_resume"] = pending_resumes(audit.layout, client, bucket).to_json()
            return summary

        if actor_name:
            engine.require_actor(layouts[0], token)
        # Audits only read, so actors are audited side by side; results keep their order.
        for layout, outcome in each_actor(
            layouts, summarise, token, fleet_workers(engine.settings), fleet
        ):
            if isinstance(outcome, TrainsyncError):
                if outcome.exit_code == 2 or not args.all:
                    if args.all:
                        token.cancel()  # the audits still in flight stop with the run
                    raise outcome
                results[layout.name] = {"errors": [str(outcome)]}
                continue
            results[layout.name] = outcome

    cancel = CancelToken()
    aborted = False
    try:
        run_with_interrupt(job, cancel)
    except Aborted:
        aborted = True
        sink.mute()  # see run_sync_command: the engine stays open for the audit's threads
        raise
    finally:
        sink.finish()
        if not aborted:
            engine.close()
    if cancel.cancelled:
        return 130
    if args.json:
        print(json.dumps(results if args.all else next(iter(results.values()))))
    else:
        for name, summary in results.items():
            _print_audit(name, summary, args.verbose)
    bad = any(s.get("errors") or s.get("conflicts") for s in results.values())
    return 1 if bad else 0


def _print_audit(name: str, summary: dict[str, Any], verbose: bool) -> None:
    out = sys.stdout
    actions = summary.get("actions", {})
    if not actions and not summary.get("conflicts") and not summary.get("errors"):
        out.write(f"{name}: in sync ({plural(summary.get('in_sync', 0), 'file')})\n")
        _print_kept(summary, verbose)
        return
    out.write(
        f"{name}: {summary.get('in_sync', 0)} in sync, "
        f"{size(summary.get('bytes_to_transfer', 0))} to transfer\n"
    )
    for category, items in actions.items():
        out.write(f"  {category.replace('_', ' ')}: {len(items)}\n")
        shown = items if verbose else items[:10]
        for item in shown:
            out.write(f"    {item['path']}\n")
        if len(items) > len(shown):
            out.write(f"    … {len(items) - len(shown)} more (-v shows all)\n")
    for conflict in summary.get("conflicts", []):
        out.write(f"  conflict: {conflict['path']}\n")
    for error in summary.get("errors", []):
        out.write(f"  error: {error}\n")
    _print_kept(summary, verbose)


def _print_kept(summary: dict[str, Any], verbose: bool) -> None:
    """What an interrupted run left for the next sync to resume, one line per transfer."""
    kept = KeptForResume.from_json(summary.get("kept_for_resume"))
    if not kept:
        return
    sys.stdout.write(f"  {kept.text()}:\n")
    for verb, items in (("download", kept.downloads), ("upload", kept.uploads)):
        shown = items if verbose else items[:10]
        for item in shown:
            done = f"{size(item.kept)} of {size(item.size)}"
            sys.stdout.write(f"    {verb} {item.path}: {done}\n")
        if len(items) > len(shown):
            sys.stdout.write(f"    … {len(items) - len(shown)} more (-v shows all)\n")


def run_history_command(args: argparse.Namespace, flags: dict[str, Any]) -> int:
    engine = _engine(flags)
    try:
        entries = engine.history(args.actor, args.n)
        if args.actor and not entries:
            # No runs of it: a typo must not read as "never synced" (an actor since removed
            # still shows its runs, so the check is only made when there are none).
            _require_known(engine, args.actor)
    finally:
        engine.close()
    if args.json:
        print(json.dumps([e.to_json() for e in entries]))
        return 0
    for e in entries:
        print(history_line(e))
    return 0


def _require_known(engine: Engine, name: str) -> None:
    """UnknownActorError, with the did-you-mean of every command, unless the actor has a
    local folder or (with a bucket set) objects in S3; history needs no bucket, so without
    one only the local folders are asked."""
    layout = engine.actor(name)
    if engine.settings.bucket:
        engine.require_actor(layout)
    elif not layout.actor_dir.is_dir():
        hint = did_you_mean(engine.local_actor_names(), layout.name)
        raise UnknownActorError(
            f"unknown actor {layout.name!r}: no folder data/actors/{layout.name}/ under "
            f"{engine.settings.root} and no sync of it in the history; "
            f"{hint}check the name and --root"
        )


def history_line(e: HistoryEntry) -> str:
    """One run: when, what, options, counts, problems, and who ran it from where."""
    if e.aborted:
        state = " ABORTED"  # a second Ctrl-C: the counts are what had finished by then
    elif e.cancelled:
        state = " CANCELLED"
    else:
        state = ""
    problems = [plural(e.error_count, "error")]
    if e.conflicts:
        problems.append(plural(e.conflicts, "conflict"))
    if e.kind == RESTORE:
        what = f" restore of {e.stamp}"
        counts = f"{e.changes:,} restored"
        if e.changes:
            local, s3 = e.counts.get("restored_local", 0), e.counts.get("restored_s3", 0)
            counts += f" ({local:,} local, {s3:,} S3)"
        if e.skipped_count:
            problems.append(f"{e.skipped_count:,} not overwritten")
    else:
        what = " dry-run" if e.dry_run else ""
        counts = ", ".join(f"{k}={v}" for k, v in e.counts.items() if v) or "no changes"
        if e.kept:
            counts += f"; {e.kept.text()}"
    who = f"{e.who} via {e.via}" if e.via else e.who
    return (
        f"{e.when} {e.actor}{what}{state}: {counts}; {', '.join(problems)}, {e.duration_s}s ({who})"
    )


def run_restore_command(args: argparse.Namespace, flags: dict[str, Any]) -> int:
    """Without a stamp (or --latest) list what can be restored; with one, restore it."""
    from trainsync_tui.console import print_restore, print_trash
    from trainsync_tui.engine.run.restore import list_trash, restore_trash, trash_notes
    from trainsync_tui.interrupt import run_with_interrupt

    engine = _engine(flags)
    try:
        layout = engine.actor(args.actor)
        engine.require_actor(layout)
        if args.stamp and args.latest:
            raise ConfigError("give a STAMP or --latest, not both")
        if not args.stamp and not args.latest:
            stamps, notes = list_trash(engine, layout), trash_notes(engine)
            if args.json:
                print(json.dumps({"stamps": [s.to_json() for s in stamps], "notes": notes}))
            else:
                print_trash(layout.name, stamps, notes)
            return 0
        stamp = args.stamp
        if stamp is None:
            newest = list_trash(engine, layout)
            if not newest:
                raise ConfigError(f"{layout.name}: nothing in the trash to restore")
            stamp = newest[0].stamp
        report = run_with_interrupt(
            lambda token: restore_trash(engine, layout, stamp, dry_run=args.dry_run, cancel=token),
            CancelToken(),
        )
    finally:
        engine.close()
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print_restore(report)
    return report.exit_code
