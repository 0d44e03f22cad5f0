"""What the scans found: the three listings the plan compares (local files, S3 objects, the
manifest), as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file under training_data/; `fs_path` is its name on disk when that differs in form."""

    path: str
    size: int
    mtime: float
    md5: str
    fs_path: str = ""
    ctime_ns: int = 0  # 0: not known (not checked)

    @property
    def disk_path(self) -> str:
        return self.fs_path or self.path


@dataclass(frozen=True, slots=True)
class RemoteObject:
    """An S3 object under the actor's prefix; `md5` is None where it cannot be known."""

    path: str
    key: str
    size: int
    etag: str
    last_modified: float
    md5: str | None
    # The MD5 is that of our own earlier download, which nothing could check (no MD5 from
    # S3, no part size that gives its ETag): in sync as far as can be told, never verified.
    unchecked: bool = False

    @property
    def is_multipart(self) -> bool:
        return "-" in self.etag


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    md5: str
    size: int
    updated_at: str = ""
    # The MD5 is what we downloaded of an object nothing could check (S3 gives no MD5, no
    # part size gives its ETag): written as "md5_source": "unverified download".
    unverified: bool = False


@dataclass(frozen=True, slots=True)
class PathIssue:
    """A path that is refused or could not be read; the plan leaves it alone."""

    path: str
    message: str
    source: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(slots=True)
class Listings:
    """Everything a scan found for one actor."""

    local: dict[str, LocalFile] = field(default_factory=dict)
    remote: dict[str, RemoteObject] = field(default_factory=dict)
    manifest: dict[str, ManifestEntry] = field(default_factory=dict)
    # Paths (or folder prefixes ending in "/") that must not be touched this run.
    blocked: list[PathIssue] = field(default_factory=list)
    notes: list[PathIssue] = field(default_factory=list)
    # Local paths that are not files a download may replace (FIFOs, links to folders): kind.
    in_the_way: dict[str, str] = field(default_factory=dict)
