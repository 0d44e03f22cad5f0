"""The result of one sync or audit: the seed's counts plus what a user needs to trust it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trainsync_tui.engine.errors import redact
from trainsync_tui.engine.plan.build import Conflict, Plan
from trainsync_tui.engine.plan.counts import Counts


def plural(n: int, word: str) -> str:
    """ "1 conflict", "1,204 conflicts": how every front end counts things in its text."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def size_text(n: int) -> str:
    """ "1.4 GiB": sizes in the engine's own messages (the front ends use the same form)."""
    import humanize

    return str(humanize.naturalsize(n, binary=True))


@dataclass(frozen=True)
class KeptTransfer:
    """One transfer kept for resume: its path, the file's whole size and the bytes kept."""

    path: str
    size: int
    kept: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "bytes_kept": self.kept}


@dataclass(frozen=True)
class KeptForResume:
    downloads: list[KeptTransfer] = field(default_factory=list)
    uploads: list[KeptTransfer] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(t.kept for t in (*self.downloads, *self.uploads))

    def __bool__(self) -> bool:
        return bool(self.downloads or self.uploads)

    def text(self) -> str:
        """ "323 MiB kept for resume (2 downloads, 1 upload)"."""
        what = [plural(len(self.downloads), "download")] if self.downloads else []
        what += [plural(len(self.uploads), "upload")] if self.uploads else []
        return f"{size_text(self.bytes)} kept for resume ({', '.join(what)})"

    def to_json(self) -> dict[str, Any]:
        return {
            "bytes": self.bytes,
            "downloads": [t.to_json() for t in self.downloads],
            "uploads": [t.to_json() for t in self.uploads],
        }

    @classmethod
    def from_json(cls, data: Any) -> KeptForResume:
        """Read back what to_json wrote; anything else is nothing kept."""
        if not isinstance(data, dict):
            return cls()

        def read(items: Any) -> list[KeptTransfer]:
            return [
                KeptTransfer(str(i["path"]), int(i["size"]), int(i["bytes_kept"]))
                for i in items or []
                if isinstance(i, dict)
            ]

        try:
            return cls(read(data.get("downloads")), read(data.get("uploads")))
        except (KeyError, TypeError, ValueError):
            return cls()


@dataclass
class SyncReport:
    actor_name: str
    actor_id: str
    dry_run: bool = False
    counts: Counts = field(default_factory=Counts)
    errors: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    # Paths whose content nothing could check (S3 gives no MD5, no multipart ETag matched).
    unverified: list[str] = field(default_factory=list)
    # Paths S3 gives no MD5 for, checked by their multipart ETag when downloaded.
    verified_on_transfer: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    bytes_downloaded: int = 0
    # Bytes an interrupted earlier run had sent or fetched already (kept, not moved again).
    bytes_resumed: int = 0
    duration: float = 0.0
    cancelled: bool = False
    # The delete guard stopped it before anything changed (a front end may offer --force).
    refused_by_guard: bool = False
    in_sync: int = 0
    total_files: int = 0
    # What a cancelled run leaves for the next one (partial downloads, multipart parts).
    kept: KeptForResume = field(default_factory=KeptForResume)

    def add(self, key: str, n: int = 1) -> None:
        self.counts.add(key, n)

    @property
    def changed(self) -> int:
        return self.counts.total

    @property
    def exit_code(self) -> int:
        if self.cancelled:
            return 130
        return 1 if self.errors or self.conflicts else 0

    def to_json(self) -> dict[str, Any]:
        """Exactly the seed's keys first, then the extras."""
        data: dict[str, Any] = self.counts.to_json()
        # Errors quote what S3 said; a server that echoes the signed request must not leak it.
        data["errors"] = [redact(e) for e in self.errors]
        data.update(
            actor_id=self.actor_id,
            actor_name=self.actor_name,
            dry_run=self.dry_run,
            conflicts=[c.to_json() for c in self.conflicts],
            unverified=list(self.unverified),
            verified_on_transfer=list(self.verified_on_transfer),
            bytes_uploaded=self.bytes_uploaded,
            bytes_downloaded=self.bytes_downloaded,
            bytes_resumed=self.bytes_resumed,
            duration_s=round(self.duration, 3),
            cancelled=self.cancelled,
            in_sync=self.in_sync,
            total_files=self.total_files,
            kept_for_resume=self.kept.to_json(),
        )
        return data


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plan as the audit command and the HTTP API show it: actions grouped by category."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for action in plan.actions:
        item: dict[str, Any] = {"path": action.path, "bytes": action.size}
        if action.local is not None:
            item["local_md5"] = action.local.md5
        if action.remote is not None:
            item["s3_md5"] = action.remote.md5
        if action.recorded is not None:
            item["manifest_md5"] = action.recorded.md5
        if action.resolved:
            item["resolution"] = str(action.resolved)
        groups.setdefault(str(action.category), []).append(item)
    return {
        "counts": plan.counts().to_json(),
        "actions": groups,
        "conflicts": [c.to_json() for c in plan.conflicts],
        "errors": [str(i) for i in plan.issues],
        "unverified": list(plan.left_unverified),
        "verified_on_transfer": list(plan.verified_on_transfer),
        "in_sync": plan.in_sync,
        "total_files": plan.total_paths,
        "bytes_to_transfer": plan.bytes_to_transfer,
    }
