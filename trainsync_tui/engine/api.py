"""The engine's front door: what the CLI, the app and the HTTP API call."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from trainsync_tui.engine.audit import Audit, run_audit
from trainsync_tui.engine.cancel import CancelToken, run_cancellable
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import (
    CancelledSync,
    DeleteGuardError,
    TrainsyncError,
    UnknownActorError,
)
from trainsync_tui.engine.events import EventSink, Message, Stage, ignore
from trainsync_tui.engine.execute import Executor
from trainsync_tui.engine.hashing import HashCache
from trainsync_tui.engine.history import HistoryLog, read_history
from trainsync_tui.engine.layout import ActorLayout, actor_layout
from trainsync_tui.engine.lock import actor_lock, lock_holder
from trainsync_tui.engine.manifest import remove_stale_temp
from trainsync_tui.engine.paths import actor_name_problem
from trainsync_tui.engine.plan import ConflictPolicy, Plan, build_plan
from trainsync_tui.engine.remote import (
    bucket_versioning,
    list_actor_names,
    stale_multipart_uploads,
)
from trainsync_tui.engine.report import SyncReport
from trainsync_tui.engine.s3client import classify, make_client
from trainsync_tui.engine.select import Selection, apply_selection
from trainsync_tui.engine.tempfiles import remove_temp_files
from trainsync_tui.engine.transfer import Transfers

_STALE_UPLOAD_SECONDS = 24 * 3600


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    delete_orphans: bool = False
    conflict: ConflictPolicy = ConflictPolicy.SKIP
    resolutions: Mapping[str, ConflictPolicy] = field(default_factory=dict)
    selection: Selection = field(default_factory=Selection)
    force: bool = False
    max_delete: float | None = None
    rehash: bool = False
    wait: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "delete_orphans": self.delete_orphans,
            "conflict": str(self.conflict),
            # Per-file choices made in the app or the API: how many of each.
            "conflict_choices": dict(Counter(str(p) for p in self.resolutions.values())),
            "selective": not self.selection.is_everything,
            "force": self.force,
        }


class Engine:
    """One root, one bucket. Thread-safe; blocking methods take a CancelToken."""

    def __init__(
        self, settings: Settings, *, clock: Callable[[], float] = time.time, who: str = "trainsync"
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.history_log = HistoryLog(settings.state_dir, who, self.now_iso)
        self.who = who
        self._client: Any = None
        self._cache: HashCache | None = None
        self._lock = threading.Lock()

    # -- shared resources ----------------------------------------------------------------

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self.settings.require_bucket()
                self._client = make_client(self.settings)
            return self._client

    @property
    def cache(self) -> HashCache:
        with self._lock:
            if self._cache is None:
                self._cache = HashCache(self.settings.hash_cache_path())
            return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    def now_iso(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _stamp(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y%m%dT%H%M%SZ")

    # -- actors --------------------------------------------------------------------------

    def actor(self, name: str, actor_id: str | None = None) -> ActorLayout:
        return actor_layout(self.settings, name, actor_id)

    def local_actor_names(self) -> list[str]:
        """Every actor with a folder under data/actors/, sorted (no S3 request)."""
        folder = self.settings.actors_dir
        if not folder.is_dir():
            return []
        return sorted(
            p.name for p in folder.iterdir() if p.is_dir() and not actor_name_problem(p.name)
        )

    def actor_names(self, *, on_skip: Callable[[str], None] | None = None) -> list[str]:
        """Every actor with a local folder or an S3 prefix, sorted; `on_skip` gets a line per
        S3 folder left out for its name, so a caller can tell the user which and why."""
        names = set(self.local_actor_names())
        bucket = self.settings.require_bucket()
        actors_prefix = self.settings.actors_prefix
        try:
            found = list_actor_names(self.client, bucket, actors_prefix)
        except Exception as exc:
            raise classify(exc, self.settings) from None
        # With a prefix at the bucket root, the trash prefix's folder looks like an actor.
        trash_root = self.settings.trash_prefix.split("{", 1)[0]
        for n in found:
            if trash_root and self.settings.prefix_for(n).startswith(trash_root):
                continue  # our own trash, not a skipped actor
            problem = actor_name_problem(n)
            if problem is None:
                names.add(n)
            elif on_skip is not None:  # repr(): a control character must not reach a terminal
                folder = f"s3://{bucket}/{actors_prefix}{n}/"
                on_skip(f"S3 folder {folder!r} skipped: its name {problem}; rename it to sync it")
        return sorted(names)

    def actor_exists(self, layout: ActorLayout) -> bool:
        if layout.actor_dir.is_dir():
            return True
        try:
            page = self.client.list_objects_v2(
                Bucket=self.settings.require_bucket(), Prefix=layout.prefix, MaxKeys=1
            )
        except Exception as exc:
            raise classify(exc, self.settings) from None
        return bool(page.get("KeyCount") or page.get("Contents"))

    def require_actor(self, layout: ActorLayout) -> None:
        """Raise UnknownActorError unless the actor has a local folder or objects in S3."""
        if not self.actor_exists(layout):
            raise UnknownActorError(
                f"unknown actor {layout.name!r}: no folder data/actors/{layout.name}/ under "
                f"{self.settings.root} and nothing under "
                f"s3://{self.settings.bucket}/{layout.prefix}; "
                f"{self._did_you_mean(layout.name)}check the name and --root"
            )

    def _did_you_mean(self, name: str) -> str:
        from trainsync_tui.engine.suggest import did_you_mean  # the error path only

        return did_you_mean(self, name)

    def lock_holder(self, layout: ActorLayout) -> str | None:
        return lock_holder(self.settings.state_dir, layout.name)

    def history(self, actor: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        return read_history(self.settings.state_dir, actor, limit)

    # -- audit and plan ------------------------------------------------------------------

    def audit(
        self,
        layout: ActorLayout,
        *,
        rehash: bool = False,
        cancel: CancelToken | None = None,
        sink: EventSink = ignore,
        defer_new: bool = False,
    ) -> Audit:
        """The three listings of one actor; raises TrainsyncError for run-stopping problems.

        `defer_new`: files known to neither S3 nor the manifest are hashed by their upload
        instead of the scan (one read, not two). Real syncs only: a dry run or the app's
        audit must show every local MD5.
        """
        bucket = self.settings.require_bucket()
        try:
            return run_audit(
                layout,
                self.client,
                bucket,
                self.cache,
                concurrency=self.settings.concurrency,
                rehash=rehash,
                cancel=cancel,
                sink=sink,
                defer_new=defer_new,
            )
        except (TrainsyncError, OSError) as exc:
            if isinstance(exc, OSError):
                raise TrainsyncError(f"{layout.name}: cannot scan ({exc})") from None
            raise
        except Exception as exc:
            raise classify(exc, self.settings) from None

    def plan(self, audit: Audit, options: SyncOptions) -> Plan:
        plan = build_plan(
            audit.listings,
            conflict=options.conflict,
            delete_orphans=options.delete_orphans,
            stamp=self._stamp(),
            resolutions=options.resolutions,
        )
        return apply_selection(plan, options.selection)

    # -- sync ----------------------------------------------------------------------------

    def sync(
        self,
        layout: ActorLayout,
        options: SyncOptions = SyncOptions(),
        *,
        cancel: CancelToken | None = None,
        sink: EventSink = ignore,
    ) -> SyncReport:
        """Audit, plan and (unless dry run) execute; every path problem lands in the report.

        Raises only for problems that stop the run before it starts: configuration, a busy
        lock. A cancel returns a report with `cancelled` set.
        """
        cancel = cancel or CancelToken()
        report = SyncReport(layout.name, layout.actor_id, dry_run=options.dry_run)
        started = time.monotonic()
        self.history_log.begin(layout.name, options.to_json(), report)
        lock = (
            contextlib.nullcontext()
            if options.dry_run
            else actor_lock(
                self.settings.state_dir, layout.name, self.who, wait=options.wait, cancel=cancel
            )
        )
        try:
            with lock:
                self._sync_locked(layout, options, cancel, sink, report)
        except CancelledSync:
            report.cancelled = True
        except DeleteGuardError as exc:
            report.errors.append(str(exc))
        except BaseException:
            self.history_log.discard(report)  # refused before it ran (busy, bad config)
            raise
        finally:
            report.duration = time.monotonic() - started
        sink(Stage(layout.name, "done", "cancelled" if report.cancelled else ""))
        self.history_log.end(report)
        return report

    def _sync_locked(
        self,
        layout: ActorLayout,
        options: SyncOptions,
        cancel: CancelToken,
        sink: EventSink,
        report: SyncReport,
    ) -> None:
        from trainsync_tui.engine.errors import ManifestError

        if not options.dry_run:
            self._clean_up_after_crash(layout, sink)
        try:
            audit = self.audit(
                layout,
                rehash=options.rehash,
                cancel=cancel,
                sink=sink,
                defer_new=not options.dry_run,
            )
        except ManifestError as exc:
            report.errors.append(str(exc))
            return
        sink(Stage(layout.name, "plan"))
        plan = self.plan(audit, options)
        report.errors.extend(str(issue) for issue in plan.issues)
        report.conflicts = [c.to_json() for c in plan.conflicts]
        report.unverified = list(plan.unverified)
        report.in_sync = plan.in_sync
        report.total_files = plan.total_paths
        limit = self.settings.max_delete if options.max_delete is None else options.max_delete
        if plan.deletions and plan.delete_share() > limit and not options.force:
            raise DeleteGuardError(
                f"{layout.name}: refusing to delete {plan.deletions} of {plan.total_paths} "
                f"files ({plan.delete_share():.0%} > {limit:.0%}); pass --force to allow it"
            )
        if options.dry_run:
            for key, n in plan.counts().items():
                report.add(key, n)
            report.bytes_uploaded = sum(a.size for a in plan.actions if a.direction == "up")
            report.bytes_downloaded = sum(a.size for a in plan.actions if a.direction == "down")
            return
        if not plan.actions:
            return
        n = len(plan.actions)
        sink(Stage(layout.name, "transfer", f"{n} action" if n == 1 else f"{n} actions"))
        transfers = Transfers(
            self.client,
            self.settings.require_bucket(),
            threshold=self.settings.multipart_threshold,
            chunksize=self.settings.multipart_chunksize,
            concurrency=self.settings.concurrency,
            cancel=cancel,
        )
        try:
            executor = Executor(
                layout,
                transfers,
                self.cache,
                concurrency=self.settings.concurrency,
                cancel=cancel,
                sink=sink,
                now_iso=self.now_iso,
                stamp=self._stamp(),
                versioned=bucket_versioning(self.client, self.settings.require_bucket()),
            )
            executor.run(plan, report)
        finally:
            transfers.close()
        cancel.raise_if_cancelled()

    def _clean_up_after_crash(self, layout: ActorLayout, sink: EventSink) -> None:
        """With the lock held, whatever temp state exists was left by a run that died."""
        remove_temp_files(layout.staging_dir)
        remove_temp_files(layout.training_dir)
        remove_stale_temp(layout.actor_dir)
        journal = layout.multipart_journal
        keys = journal.read_text().split() if journal.exists() else []
        cutoff = self.clock() - _STALE_UPLOAD_SECONDS
        try:
            stale = stale_multipart_uploads(
                self.client, self.settings.require_bucket(), layout.prefix, keys, cutoff
            )
            for key, upload_id in stale:
                self.client.abort_multipart_upload(
                    Bucket=self.settings.require_bucket(), Key=key, UploadId=upload_id
                )
                sink(Message(layout.name, "info", f"aborted an unfinished upload of {key}"))
        except Exception as exc:
            raise classify(exc, self.settings) from None
        with contextlib.suppress(FileNotFoundError):
            journal.unlink()

    def abort_runs(self) -> int:
        """A front end gives up on its syncs (a second Ctrl-C): each still running is recorded
        as aborted now, since the process ends before it can record itself."""
        return self.history_log.abort_running()

    # -- async edges ---------------------------------------------------------------------

    async def sync_async(
        self,
        layout: ActorLayout,
        options: SyncOptions = SyncOptions(),
        *,
        sink: EventSink = ignore,
    ) -> SyncReport:
        """Cancelling the awaiting task cancels the sync and waits until it has stopped cleanly."""
        return await run_cancellable(
            lambda cancel: self.sync(layout, options, cancel=cancel, sink=sink)
        )

    async def audit_async(
        self, layout: ActorLayout, *, rehash: bool = False, sink: EventSink = ignore
    ) -> Audit:
        return await run_cancellable(
            lambda cancel: self.audit(layout, rehash=rehash, cancel=cancel, sink=sink)
        )
