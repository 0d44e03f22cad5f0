"""The sync, audit and history commands: build options, run the engine, print the outcome."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from trainsync_tui.console import ConsoleSink, print_report, size, warn
from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.config import load_settings
from trainsync_tui.engine.errors import ConfigError, TrainsyncError
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.plan.build import ConflictPolicy
from trainsync_tui.engine.plan.select import Selection
from trainsync_tui.engine.run.report import SyncReport, plan_to_json, plural


def _engine(flags: dict[str, Any]) -> Engine:
    return Engine(load_settings(flags), who="trainsync cli")


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

    engine = _engine(flags)
    options = _options(args)
    actor_name = target[1]
    layouts = _layouts(engine, target)
    sink = ConsoleSink(verbose=args.verbose, progress=not args.no_progress and not args.json)
    cancel = CancelToken()
    reports: list[SyncReport] = []

    def job(token: CancelToken) -> None:
        if actor_name:
            engine.require_actor(layouts[0], token)  # a typo must not "succeed" with nothing to do
        for layout in layouts:
            if token.cancelled:
                break
            try:
                reports.append(engine.sync(layout, options, cancel=token, sink=sink))
            except TrainsyncError as exc:
                if exc.exit_code == 2 or not args.all:
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
        if actor_name:
            engine.require_actor(layouts[0], token)
        for layout in layouts:
            try:
                audit = engine.audit(layout, rehash=args.verify, cancel=token, sink=sink)
            except TrainsyncError as exc:
                if exc.exit_code == 2 or not args.all:
                    raise
                results[layout.name] = {"errors": [str(exc)]}
                continue
            summary = plan_to_json(engine.plan(audit, SyncOptions()))
            summary.update(actor_name=layout.name, actor_id=layout.actor_id)
            results[layout.name] = summary

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


def run_history_command(args: argparse.Namespace, flags: dict[str, Any]) -> int:
    engine = _engine(flags)
    entries = engine.history(args.actor, args.n)
    if args.json:
        print(json.dumps(entries))
        return 0
    for e in entries:
        print(history_line(e))
    return 0


def history_line(e: dict[str, Any]) -> str:
    """One run: when, what, options, counts, problems, and who ran it from where."""
    counts = ", ".join(f"{k}={v}" for k, v in e.get("counts", {}).items() if v) or "no changes"
    flags_text = " dry-run" if e.get("options", {}).get("dry_run") else ""
    if e.get("aborted"):
        state = " ABORTED"  # a second Ctrl-C: the counts are what had finished by then
    elif e.get("cancelled"):
        state = " CANCELLED"
    else:
        state = ""
    problems = [plural(int(e.get("error_count", 0)), "error")]
    if e.get("conflicts"):
        problems.append(plural(int(e["conflicts"]), "conflict"))
    who = f"{e.get('who')} via {e['via']}" if e.get("via") else f"{e.get('who')}"
    return (
        f"{e.get('when')} {e.get('actor')}{flags_text}{state}: {counts}; "
        f"{', '.join(problems)}, {e.get('duration_s')}s ({who})"
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
