"""A fleet of actors (--all): one listing for all of them, and what tells a sync it has
nothing to write (so it needs no lease)."""

from __future__ import annotations

import os
from typing import Any

from trainsync_tui.engine.actors.layout import MANIFEST_NAME, ActorLayout
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import TrainsyncError
from trainsync_tui.engine.plan.build import Plan
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.engine.s3.actor_prefixes import spelt_in_s3
from trainsync_tui.engine.s3.client import classify
from trainsync_tui.engine.s3.fleet_listing import (
    FleetListing,
    prefixes_with_uploads,
    start_fleet_listing,
)
from trainsync_tui.engine.s3.listing import RemoteScan


def _start(
    client: Any, settings: Settings, layouts: list[ActorLayout], cancel: CancelToken | None
) -> FleetListing | None:
    prefixes = [spelt_in_s3(client, settings, layout).prefix for layout in layouts]
    bucket, root = settings.require_bucket(), settings.actors_prefix
    workers = min(8, settings.concurrency)
    return start_fleet_listing(client, bucket, root, prefixes, workers=workers, cancel=cancel)


def fleet_listing(
    client: Any, settings: Settings, layouts: list[ActorLayout], cancel: CancelToken | None
) -> FleetListing | None:
    """Every actor's S3 objects from one listing in parallel pages, by the prefix S3 spells
    it with, under way (FleetListing.get waits for one actor's); None when they cannot share
    one or it cannot start (each actor's audit then lists its own prefix, and reports its
    own error, as it does for an actor whose part of the listing failed)."""
    try:
        return _start(client, settings, layouts, cancel)
    except Exception:
        return None


def shared_listing(
    client: Any, settings: Settings, layouts: list[ActorLayout], cancel: CancelToken | None
) -> dict[str, RemoteScan] | None:
    """fleet_listing, waited for, except that an S3 that fails or says nothing raises
    TrainsyncError: the app's audits then know at once that S3 is unknown, instead of each
    waiting out its own deadline. None still means they cannot share one listing (each
    lists its own)."""
    try:
        listing = _start(client, settings, layouts, cancel)
        return None if listing is None else listing.result()
    except TrainsyncError:
        raise
    except Exception as exc:
        raise classify(exc, settings) from None


def fleet_uploads(client: Any, settings: Settings, layouts: list[ActorLayout]) -> set[str] | None:
    """The prefixes among `layouts`' holding an unfinished upload, from one listing; None
    when it cannot be asked."""
    try:
        prefixes = [spelt_in_s3(client, settings, layout).prefix for layout in layouts]
        bucket = settings.require_bucket()
        return prefixes_with_uploads(client, bucket, settings.actors_prefix, prefixes)
    except Exception:
        return None


def fill_report(report: SyncReport, plan: Plan, *, dry_run: bool) -> None:
    """What the plan says before anything runs: problems, conflicts, what is in sync."""
    report.errors.extend(str(issue) for issue in plan.issues)
    report.conflicts = list(plan.conflicts)
    report.unverified = list(plan.left_unverified)
    if dry_run:  # a real sync lists what its downloads did check
        report.verified_on_transfer = list(plan.verified_on_transfer)
    report.in_sync = plan.in_sync
    report.total_files = plan.total_paths


# What a sync that ended leaves in an actor's work folder; anything else was left by a
# killed run, whose clean-up (under the lease) writes.
_KEPT_AFTER_A_RUN = frozenset({"uploads-seen", "trash"})


def left_by_a_run(layout: ActorLayout) -> bool:
    """True when a killed run may have left something to clean up (temp files, journals)."""
    try:
        with os.scandir(layout.work_dir) as entries:
            for entry in entries:
                if entry.name in _KEPT_AFTER_A_RUN:
                    continue
                if entry.path == str(layout.staging_dir) and not any(os.scandir(entry.path)):
                    continue  # the downloads' staging folder, left empty
                return True
    except FileNotFoundError:
        pass
    except OSError:
        return True
    return any(layout.actor_dir.glob(f".{MANIFEST_NAME}.*.tmp"))
