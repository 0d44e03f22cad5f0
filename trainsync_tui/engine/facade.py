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

from trainsync_tui.engine.actors.layout import ActorLayout, actor_layout
from trainsync_tui.engine.actors.names import every_actor, local_actor_folders
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import (
    CancelledSync,
    DeleteGuardError,
    LeaseLostError,
    TrainsyncError,
    UnknownActorError,
)
from trainsync_tui.engine.events import EventSink, Message, Stage, ignore
from trainsync_tui.engine.hashing import HashCache
from trainsync_tui.engine.local.flock import lock_holder
from trainsync_tui.engine.local.manifest import remove_stale_temp
from trainsync_tui.engine.local.tempfiles import remove_temp_files
from trainsync_tui.engine.plan.build import ConflictPolicy, Plan, build_plan
from trainsync_tui.engine.plan.select import Selection, apply_selection
from trainsync_tui.engine.run.audit import Audit, run_audit
from trainsync_tui.engine.run.execute import Executor
from trainsync_tui.engine.run.fleet import (
    fill_report,
    fleet_listing,
    fleet_uploads,
    left_by_a_run,
    shared_listing,
)
from trainsync_tui.engine.run.history import HistoryEntry, HistoryLog, read_history
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.run.stale_uploads import CleanResult, clean_up_uploads
from trainsync_tui.engine.run.sync_guard import sync_guard
from trainsync_tui.engine.s3.actor_prefixes import list_actor_names, spelt_in_s3
from trainsync_tui.engine.s3.client import S3Clients, classify
from trainsync_tui.engine.s3.client_on_use import ClientOnUse
from trainsync_tui.engine.s3.fleet_listing import FleetListing, FleetScans
from trainsync_tui.engine.s3.listing import RemoteScan, bucket_versioning
from trainsync_tui.engine.s3.request_guard import Silence, answer_watch, longest_silence
from trainsync_tui.engine.transfer.bandwidth import BandwidthLimiter
from trainsync_tui.engine.transfer.context import TransferContext
from trainsync_tui.engine.transfer.transfers import Transfers


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
    bwlimit: str | None = None  # sets the engine's limit from this sync on (API body)

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
        self._clients = S3Clients(settings)
        self._cache: HashCache | None = None
        self._lock = threading.Lock()
        # All syncs' transfers draw from it; the app changes it with set_rate.
        self.throttle = BandwidthLimiter(settings.bwlimit)

    # -- shared resources ----------------------------------------------------------------

    @property
    def client(self) -> Any:
        return self.client_for(None)

    def client_for(self, cancel: CancelToken | None) -> Any:
        """The S3 client of the run `cancel` belongs to: its cancel closes the connections."""
        self.settings.require_bucket()
        return self._clients.get(cancel)

    @property
    def cache(self) -> HashCache:
        with self._lock:
            if self._cache is None:
                self._cache = HashCache(self.settings.hash_cache_path())
            return self._cache

    def close(self) -> None:
        self._clients.close()
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
        """Every actor with a folder under data/actors/, by NFC name, sorted (no S3 request)."""
        return sorted(local_actor_folders(self.settings.actors_dir))

    def actor_names(
        self,
        *,
        on_skip: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[str]:
        """Every actor with a local folder or an S3 prefix, sorted; `on_skip` gets a line per
        S3 folder left out for its name, so a caller can tell the user which and why."""
        bucket = self.settings.require_bucket()
        try:
            found = list_actor_names(self.client_for(cancel), bucket, self.settings.actors_prefix)
        except Exception as exc:
            raise classify(exc, self.settings) from None
        return every_actor(self.settings, found, on_skip)

    def actor_exists(self, layout: ActorLayout, cancel: CancelToken | None = None) -> bool:
        if layout.actor_dir.is_dir():
            return True
        layout = spelt_in_s3(self.client_for(cancel), self.settings, layout)
        try:
            # No MaxKeys=1: s3rver answers 500 to any listing it has to cut short.
            page = self.client_for(cancel).list_objects_v2(
                Bucket=self.settings.require_bucket(), Prefix=layout.prefix
            )
        except Exception as exc:
            raise classify(exc, self.settings) from None
        return bool(page.get("KeyCount") or page.get("Contents"))

    def require_actor(self, layout: ActorLayout, cancel: CancelToken | None = None) -> None:
        """Raise UnknownActorError unless the actor has a local folder or objects in S3."""
        if not self.actor_exists(layout, cancel):
            raise UnknownActorError(
                f"unknown actor {layout.name!r}: no folder data/actors/{layout.name}/ under "
                f"{self.settings.root} and nothing under "
                f"s3://{self.settings.bucket}/{layout.prefix}; "
                f"{self._did_you_mean(layout.name)}check the name and --root"
            )

    def _did_you_mean(self, name: str) -> str:
        from trainsync_tui.engine.actors.suggest import did_you_mean  # the error path only

        try:
            names = self.actor_names()
        except TrainsyncError:
            names = self.local_actor_names()  # S3 unreachable: the error is still about the name
        return did_you_mean(names, name)

    def lock_holder(self, layout: ActorLayout) -> str | None:
        return lock_holder(self.settings.state_dir, layout.name)

    def history(self, actor: str | None = None, limit: int = 200) -> list[HistoryEntry]:
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
        fleet: FleetScans | None = None,
    ) -> Audit:
        """The three listings of one actor; raises TrainsyncError for run-stopping problems.

        `defer_new`: files known to neither S3 nor the manifest are hashed by their upload
        instead of the scan (one read, not two). Real syncs only: a dry run or the app's
        audit must show every local MD5.

        `fleet`: S3 listings made for many actors at once (FleetListing), by prefix; an actor
        found there is not listed again. Only for audits that decide nothing alone: a sync
        lists its actor itself once it holds the lease.
        """
        bucket = self.settings.require_bucket()
        client = ClientOnUse(lambda: self.client_for(cancel))  # `fleet`: maybe never used
        layout = spelt_in_s3(client, self.settings, layout)
        try:
            return run_audit(
                layout,
                client,
                bucket,
                self.cache,
                concurrency=self.settings.concurrency,
                rehash=rehash,
                cancel=cancel,
                sink=sink,
                defer_new=defer_new,
                listed=fleet.get(layout.prefix) if fleet is not None else None,
            )
        except (TrainsyncError, OSError) as exc:
            if isinstance(exc, OSError):
                raise TrainsyncError(f"{layout.name}: cannot scan ({exc})") from None
            raise
        except Exception as exc:
            raise classify(exc, self.settings) from None

    def list_fleet(self, layouts: list[ActorLayout], cancel: CancelToken) -> FleetListing | None:
        """The S3 objects of many actors from one listing under way, by prefix, for
        `audit(fleet=...)`: an actor's audit waits for its part only. None when they cannot
        share one (each actor's audit then lists its own prefix)."""
        return fleet_listing(self.client_for(cancel), self.settings, layouts, cancel)

    def shared_listing(
        self, names: list[str], cancel: CancelToken | None = None
    ) -> dict[str, RemoteScan] | None:
        """The S3 objects of the actors `names` from one listing, by prefix, for
        `audit(fleet=...)`, so the app's audits share one deadline. Raises TrainsyncError
        when S3 fails or says nothing; None when they cannot share one."""
        layouts = [self.actor(name) for name in names]
        return shared_listing(self.client_for(cancel), self.settings, layouts, cancel)

    def s3_silence(self) -> Silence | None:
        """How long this engine's S3 endpoint (as s3/client.py names it) has said nothing
        while a request waits on it; None when nothing waits, or it answers."""
        return answer_watch(self.settings.endpoint_url or "AWS S3").silence()

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
        try:
            lock = (
                contextlib.nullcontext()
                if options.dry_run
                # The lease sits beside the prefix S3 holds, whatever the spelling typed.
                else sync_guard(
                    self.settings,
                    lambda: self.client,
                    spelt_in_s3(self.client_for(cancel), self.settings, layout),
                    self.who,
                    options.wait,
                    cancel,
                    sink,
                    lambda: self.client_for(cancel),
                )
            )
            with lock:
                self._sync_locked(layout, options, cancel, sink, report)
        except CancelledSync:
            report.cancelled = True
        except (DeleteGuardError, LeaseLostError) as exc:
            report.errors.append(str(exc))
            report.refused_by_guard = isinstance(exc, DeleteGuardError)
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

        layout = spelt_in_s3(self.client_for(cancel), self.settings, layout)
        if options.bwlimit is not None:
            self.throttle.set_rate(options.bwlimit)
        if not options.dry_run:
            self._clean_up_after_crash(layout, sink, cancel)
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
        fill_report(report, plan, dry_run=options.dry_run)
        refused = self._refused(plan, options)
        if refused:
            raise DeleteGuardError(f"{layout.name}: {refused}")
        if options.dry_run:
            for key, n in plan.counts().to_json().items():
                report.add(key, n)
            report.bytes_uploaded = sum(a.size for a in plan.actions if a.direction == "up")
            report.bytes_downloaded = sum(a.size for a in plan.actions if a.direction == "down")
            return
        if not plan.actions:
            return
        n = len(plan.actions)
        sink(Stage(layout.name, "transfer", f"{n} action" if n == 1 else f"{n} actions"))
        client = self.client_for(cancel)
        context = TransferContext.for_run(
            client,
            self.settings.require_bucket(),
            cancel,
            throttle=self.throttle,
            warn=lambda text: sink(Message(layout.name, "warning", text)),
            endpoint_url=self.settings.endpoint_url,
        )
        transfers = Transfers(
            context,
            threshold=self.settings.multipart_threshold,
            chunksize=self.settings.multipart_chunksize,
            concurrency=self.settings.concurrency,
            resume_seconds=self.settings.stale_upload_days * 86400,
            partial_dir=layout.staging_dir / "partial",  # transfer/resumable_get.py
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
                versioned=bucket_versioning(client, self.settings.require_bucket()),
            )
            executor.run(plan, report)
        finally:
            transfers.close()
        cancel.raise_if_cancelled()

    def _refused(self, plan: Plan, options: SyncOptions) -> str | None:
        """What the delete guard says against `plan`, or None."""
        limit = self.settings.max_delete if options.max_delete is None else options.max_delete
        return None if options.force else plan.guard_problem(limit)

    def fleet_uploads(self, layouts: list[ActorLayout], cancel: CancelToken) -> set[str] | None:
        """The prefixes among `layouts`' that hold an unfinished upload, from one listing;
        None when it cannot be asked (each actor's sync then asks)."""
        return fleet_uploads(self.client_for(cancel), self.settings, layouts)

    def sync_if_in_sync(
        self,
        layout: ActorLayout,
        options: SyncOptions,
        *,
        cancel: CancelToken,
        sink: EventSink = ignore,
        fleet: FleetScans | None = None,
        uploading: Callable[[], set[str] | None] | None = None,
    ) -> SyncReport | None:
        """The sync of an actor with nothing to write, made without its flock and lease
        (a lease is five requests, a fleet's no-op sync was mostly leases), or None when it
        has something to write: then `sync` it, which takes the lease and audits again
        under it, so nothing is ever written on this audit's word.

        Nothing to write means: no action planned, no delete refused, and nothing a killed
        run left behind (local temp state, an unfinished upload in S3: `uploading()` gives
        the prefixes with one, maybe waiting for a fleet's one listing of them, or they are
        asked here when None), since cleaning that up writes."""
        if options.dry_run or left_by_a_run(layout):
            return None
        spelt = spelt_in_s3(self.client_for(cancel), self.settings, layout)
        found = uploading() if uploading is not None else self.fleet_uploads([spelt], cancel)
        if found is None or spelt.prefix in found:
            return None
        from trainsync_tui.engine.errors import ManifestError

        report = SyncReport(layout.name, layout.actor_id, dry_run=False)
        started = time.monotonic()
        self.history_log.begin(layout.name, options.to_json(), report)
        try:
            if options.bwlimit is not None:
                self.throttle.set_rate(options.bwlimit)
            audit = self.audit(
                layout, rehash=options.rehash, cancel=cancel, sink=sink, defer_new=True, fleet=fleet
            )
            sink(Stage(layout.name, "plan"))
            plan = self.plan(audit, options)
            if plan.actions or self._refused(plan, options):
                self.history_log.discard(report)
                return None
            fill_report(report, plan, dry_run=options.dry_run)
        except (CancelledSync, ManifestError):
            self.history_log.discard(report)  # the sync says so, as it always did
            return None
        except BaseException:
            self.history_log.discard(report)
            raise
        report.duration = time.monotonic() - started
        sink(Stage(layout.name, "done", ""))
        self.history_log.end(report)
        return report

    def _clean_up_after_crash(
        self, layout: ActorLayout, sink: EventSink, cancel: CancelToken
    ) -> None:
        """With the lock held, whatever temp state exists was left by a run that died."""
        remove_temp_files(layout)
        remove_stale_temp(layout.actor_dir)
        self._clean_up_uploads(layout, sink, cancel)

    def _clean_up_uploads(
        self, layout: ActorLayout, sink: EventSink, cancel: CancelToken | None = None
    ) -> CleanResult:
        client = self.client_for(cancel)  # the run's: its cancel ends a request S3 holds
        try:
            return clean_up_uploads(client, self.settings, layout, now=self.clock(), sink=sink)
        except Exception as exc:
            raise classify(exc, self.settings) from None

    def clean_uploads(
        self, layout: ActorLayout, sink: EventSink = ignore, *, wait: bool = False
    ) -> CleanResult:
        """`trainsync clean`: abort the actor's uploads that will never be resumed. It holds
        the actor's flock and S3 lease as a sync does, so no other server's sync of the
        actor is under way while it judges which uploads are abandoned."""
        cancel = CancelToken()
        with sync_guard(
            self.settings,
            lambda: self.client,
            spelt_in_s3(self.client_for(cancel), self.settings, layout),
            self.who,
            wait,
            cancel,
            sink,
            lambda: self.client_for(cancel),
        ):
            return self._clean_up_uploads(layout, sink, cancel)

    def abort_runs(self) -> int:
        """A front end gives up on its syncs (a second Ctrl-C): each still running is recorded
        as aborted now, since the process ends before it can record itself."""
        return self.history_log.abort_running()


def waiting_for_s3() -> Silence | None:
    """Engine.s3_silence of every endpoint of the process, the longest (the CLI's notice)."""
    return longest_silence()
