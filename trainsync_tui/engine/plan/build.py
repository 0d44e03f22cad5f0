"""SPEC §3 as a pure function: three listings in, actions and conflicts out. No I/O, no clock."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from trainsync_tui.engine.actors.obstacles import in_the_way
from trainsync_tui.engine.plan.counts import Counts, predicted_counts
from trainsync_tui.engine.plan.steps import (
    BackupLocal,
    BackupS3,
    CopyS3,
    Download,
    LinkLocal,
    Op,
    Record,
    TrashLocal,
    TrashS3,
    Unrecord,
    Upload,
)
from trainsync_tui.engine.scanned import Listings, LocalFile, ManifestEntry, PathIssue, RemoteObject


class Category(StrEnum):
    """What sync would do to a path; the app's tree groups by this."""

    UPLOAD = "upload"
    DOWNLOAD = "download"
    ADD_TO_MANIFEST = "add_to_manifest"
    UPDATE_MANIFEST = "update_manifest"
    REMOVE_FROM_MANIFEST = "remove_from_manifest"
    CONFLICT = "conflict"
    DELETE_LOCAL = "delete_local"
    DELETE_S3 = "delete_s3"


class ConflictPolicy(StrEnum):
    SKIP = "skip"
    LOCAL = "local"
    S3 = "s3"
    NEWER = "newer"
    KEEP_BOTH = "keep-both"


@dataclass(frozen=True, slots=True)
class Conflict:
    """A path where local and S3 differ and neither is known to be the recorded one."""

    path: str
    local: LocalFile
    remote: RemoteObject
    recorded: ManifestEntry | None

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "local_md5": self.local.md5,
            "local_size": self.local.size,
            "s3_md5": self.remote.md5,
            "s3_size": self.remote.size,
            "manifest_md5": self.recorded.md5 if self.recorded else None,
        }


@dataclass(frozen=True, slots=True)
class Action:
    """Everything sync does for one path, in order; `resolved` names the conflict policy used."""

    path: str
    category: Category
    ops: tuple[Op, ...]
    local: LocalFile | None = None
    remote: RemoteObject | None = None
    recorded: ManifestEntry | None = None
    resolved: ConflictPolicy | None = None

    @property
    def size(self) -> int:
        return sum(op.transfer_bytes for op in self.ops)

    @property
    def changes_s3(self) -> bool:
        return any(op.direction == "up" for op in self.ops)

    @property
    def changes_local(self) -> bool:
        """Keep-both changes both sides."""
        return any(op.direction == "down" for op in self.ops)

    @property
    def direction(self) -> str:
        """ "up" when it changes S3, "down" when it changes local files, "" for manifest only."""
        if self.changes_s3:
            return "up"
        return "down" if self.changes_local else ""


@dataclass(frozen=True, slots=True)
class Plan:
    actions: tuple[Action, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    issues: tuple[PathIssue, ...] = ()
    unverified: tuple[str, ...] = ()
    total_paths: int = 0
    in_sync: int = 0
    manifest: Mapping[str, ManifestEntry] = field(default_factory=dict)

    def counts(self) -> Counts:
        """The report counts this plan would give if every action succeeded."""
        totals = Counts()
        for action in self.actions:
            for key in predicted_counts(action.ops, self.manifest):
                totals.add(key)
        return totals

    @property
    def verified_on_transfer(self) -> tuple[str, ...]:
        """Paths S3 gives no MD5 for that this plan downloads: the download checks them by
        their multipart ETag, so they are not "unverified"."""
        return tuple(
            sorted(
                {
                    fetched.path
                    for a in self.actions
                    for op in a.ops
                    if (fetched := op.fetches) is not None and fetched.md5 is None
                }
                & set(self.unverified)
            )
        )

    @property
    def left_unverified(self) -> tuple[str, ...]:
        """Paths S3 gives no MD5 for that no transfer of this plan checks."""
        checked = set(self.verified_on_transfer)
        return tuple(p for p in self.unverified if p not in checked)

    @property
    def deletions(self) -> int:
        return sum(1 for a in self.actions for op in a.ops if op.deletes)

    @property
    def removals(self) -> int:
        """Manifest entries dropped because their file is gone from disk and S3 alike."""
        return sum(1 for a in self.actions if a.category is Category.REMOVE_FROM_MANIFEST)

    def delete_share(self) -> float:
        """The delete guard's measure: files deleted plus entries dropped, over all paths.

        A wrong --root, an unmounted disk or a wrong prefix makes every file look gone on
        both sides: that must stop at the guard, not empty the manifest."""
        gone = self.deletions + self.removals
        return gone / self.total_paths if self.total_paths else 0.0

    def guard_problem(self, limit: float) -> str | None:
        """What this plan would delete or forget beyond the share `limit`, or None."""
        share = self.delete_share()
        if share <= limit:
            return None
        deletions, removals, total = self.deletions, self.removals, self.total_paths
        if not removals:
            what = f"delete {deletions} of {total} files"
        elif not deletions:
            what = f"drop {removals} of {total} manifest entries (files gone from disk and S3)"
        else:
            what = f"delete {deletions} files and drop {removals} manifest entries of {total}"
        check = "check that --root, --bucket and --prefix are right, or " if removals else ""
        return f"refusing to {what} ({share:.0%} > {limit:.0%}); {check}pass --force to allow it"

    @property
    def bytes_to_transfer(self) -> int:
        return sum(a.size for a in self.actions)


def conflict_copy_name(path: str, side: str, stamp: str) -> str:
    """Where keep-both puts the losing copy: `a/b.png` → `a/b.conflict-s3-<stamp>.png`."""
    folder, name = posixpath.split(path)
    stem, dot, ext = name.rpartition(".")
    if not stem:
        stem, dot, ext = name, "", ""
    marked = f"{stem}.conflict-{side}-{stamp}{dot}{ext}"
    return posixpath.join(folder, marked) if folder else marked


def _is_blocked(path: str, exact: set[str], prefixes: tuple[str, ...]) -> bool:
    return path in exact or (bool(prefixes) and path.startswith(prefixes))


def build_plan(
    listings: Listings,
    *,
    conflict: ConflictPolicy = ConflictPolicy.SKIP,
    delete_orphans: bool = False,
    stamp: str = "conflict",
    resolutions: Mapping[str, ConflictPolicy] | None = None,
) -> Plan:
    """Decide, per path, what sync does (SPEC §3).

    `resolutions` overrides the conflict policy per path; `stamp` names keep-both copies.
    """
    exact = {i.path for i in listings.blocked if not i.path.endswith("/")}
    prefixes = tuple(i.path for i in listings.blocked if i.path.endswith("/"))
    paths = set(listings.local) | set(listings.remote) | set(listings.manifest)
    actions: list[Action] = []
    conflicts: list[Conflict] = []
    issues = list(listings.blocked)
    in_sync = 0
    for path in sorted(paths):
        if _is_blocked(path, exact, prefixes):
            continue
        local = listings.local.get(path)
        remote = listings.remote.get(path)
        recorded = listings.manifest.get(path)
        if recorded is None and delete_orphans:
            actions.extend(_delete_orphans(path, local, remote))
            continue
        decided = _decide(path, local, remote, recorded)
        if local is None and remote is not None:
            # A download with something local in its way fails; say so now, dry run included.
            obstacle = in_the_way(path, listings.local, listings.in_the_way)
            if obstacle is not None:
                issues.append(PathIssue(path, obstacle, "local"))
                continue
        if decided is None:
            # An object nothing could check matches only what we once downloaded of it.
            in_sync += 0 if remote is not None and remote.unchecked else 1
        elif isinstance(decided, Conflict):
            policy = (resolutions or {}).get(path, conflict)
            resolved = _resolve(decided, policy, stamp)
            if resolved is None:
                conflicts.append(decided)
            else:
                actions.append(resolved)
        else:
            actions.append(decided)
    unverified = tuple(
        p
        for p, r in sorted(listings.remote.items())
        if (r.md5 is None or r.unchecked) and p in paths
    )
    return Plan(
        actions=tuple(actions),
        conflicts=tuple(conflicts),
        issues=tuple(issues),
        unverified=unverified,
        total_paths=len(paths),
        in_sync=in_sync,
        manifest=listings.manifest,
    )


def _delete_orphans(
    path: str, local: LocalFile | None, remote: RemoteObject | None
) -> list[Action]:
    actions = []
    if local is not None:
        actions.append(
            Action(path, Category.DELETE_LOCAL, (TrashLocal(local),), local, remote, None)
        )
    if remote is not None:
        actions.append(Action(path, Category.DELETE_S3, (TrashS3(remote),), local, remote, None))
    return actions


def _decide(
    path: str,
    local: LocalFile | None,
    remote: RemoteObject | None,
    recorded: ManifestEntry | None,
) -> Action | Conflict | None:
    """One row of the reconciliation table; None when the path is in sync."""

    def act(category: Category, *ops: Op) -> Action:
        return Action(path, category, ops, local, remote, recorded)

    l_md5 = local.md5 if local else None
    # An unknown S3 MD5 was already compared with the local file by its multipart ETag,
    # so "unknown" here means "differs from local" and never equals anything.
    r_md5 = remote.md5 if remote else None
    if recorded is None:
        if local and not remote:
            return act(Category.UPLOAD, Upload(local, path, None), Record(path, l_md5, local.size))
        if remote and not local:
            return act(
                Category.DOWNLOAD, Download(remote, path, None), Record(path, r_md5, remote.size)
            )
        assert local and remote
        if r_md5 is not None and l_md5 == r_md5:
            return act(Category.ADD_TO_MANIFEST, Record(path, l_md5, local.size))
        return Conflict(path, local, remote, None)

    m_md5 = recorded.md5
    if not local and not remote:
        return act(Category.REMOVE_FROM_MANIFEST, Unrecord(path))
    if local and not remote:
        record = (
            ()
            if l_md5 == m_md5 and local.size == recorded.size
            else (Record(path, l_md5, local.size),)
        )
        return act(Category.UPLOAD, Upload(local, path, None), *record)
    if remote and not local:
        record = (
            ()
            if r_md5 == m_md5 and remote.size == recorded.size
            else (Record(path, r_md5, remote.size),)
        )
        return act(Category.DOWNLOAD, Download(remote, path, None), *record)
    assert local and remote
    if r_md5 is not None and l_md5 == r_md5:
        if l_md5 == m_md5:
            return None
        return act(Category.UPDATE_MANIFEST, Record(path, l_md5, local.size))
    if r_md5 is not None and r_md5 == m_md5:
        return act(Category.UPLOAD, Upload(local, path, remote), Record(path, l_md5, local.size))
    if l_md5 == m_md5:
        return act(
            Category.DOWNLOAD, Download(remote, path, local), Record(path, r_md5, remote.size)
        )
    return Conflict(path, local, remote, recorded)


def _resolve(conflict: Conflict, policy: ConflictPolicy, stamp: str) -> Action | None:
    """The action a conflict policy takes, or None to leave the conflict for the user."""
    path, local, remote = conflict.path, conflict.local, conflict.remote
    if policy == ConflictPolicy.SKIP:
        return None
    if policy == ConflictPolicy.NEWER and local.mtime == remote.last_modified:
        return None
    local_wins = policy == ConflictPolicy.LOCAL or (
        policy in (ConflictPolicy.NEWER, ConflictPolicy.KEEP_BOTH)
        and local.mtime >= remote.last_modified
    )
    if policy == ConflictPolicy.KEEP_BOTH:
        if local_wins:
            loser = conflict_copy_name(path, "s3", stamp)
            ops: tuple[Op, ...] = (
                Download(remote, loser, None),
                CopyS3(remote, loser),
                Upload(local, path, remote),
                Record(loser, remote.md5, remote.size),
                Record(path, local.md5, local.size),
            )
        else:
            loser = conflict_copy_name(path, "local", stamp)
            ops = (
                Upload(local, loser, None),
                LinkLocal(local, loser),
                Download(remote, path, local),
                Record(loser, local.md5, local.size),
                Record(path, remote.md5, remote.size),
            )
    elif local_wins:
        ops = (BackupS3(remote), Upload(local, path, remote), Record(path, local.md5, local.size))
    else:
        ops = (
            BackupLocal(local),
            Download(remote, path, local),
            Record(path, remote.md5, remote.size),
        )
    return Action(path, Category.CONFLICT, ops, local, remote, conflict.recorded, policy)
