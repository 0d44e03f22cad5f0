"""The steps an action is made of; the executor runs them in order, one action at a time."""

from __future__ import annotations

from dataclasses import dataclass

from trainsync_tui.engine.scanned import LocalFile, RemoteObject


@dataclass(frozen=True, slots=True)
class Upload:
    """Send `local` to the key of `dest`; `replaces` is the object it overwrites, if any."""

    local: LocalFile
    dest: str
    replaces: RemoteObject | None


@dataclass(frozen=True, slots=True)
class Download:
    """Fetch `remote` into `dest` (a plan path); `replaces` is the local file it overwrites."""

    remote: RemoteObject
    dest: str
    replaces: LocalFile | None


@dataclass(frozen=True, slots=True)
class CopyS3:
    """Server-side copy of `remote` to the key of `dest` (the loser of a keep-both)."""

    remote: RemoteObject
    dest: str


@dataclass(frozen=True, slots=True)
class LinkLocal:
    """Keep a second local name `dest` for `local` (the loser of a keep-both)."""

    local: LocalFile
    dest: str


@dataclass(frozen=True, slots=True)
class TrashLocal:
    """Move an orphan local file to the actor's trash folder."""

    local: LocalFile


@dataclass(frozen=True, slots=True)
class TrashS3:
    """Copy an orphan object to the trash prefix (unless versioned), then delete it."""

    remote: RemoteObject


@dataclass(frozen=True, slots=True)
class BackupLocal:
    """Keep a copy of a local file that a conflict resolution is about to overwrite."""

    local: LocalFile


@dataclass(frozen=True, slots=True)
class BackupS3:
    """Keep a copy of an object that a conflict resolution is about to overwrite."""

    remote: RemoteObject


@dataclass(frozen=True, slots=True)
class Record:
    """Set the manifest entry of `path`; md5 None means "what the transfer to it verified"."""

    path: str
    md5: str | None
    size: int


@dataclass(frozen=True, slots=True)
class Unrecord:
    path: str


Op = (
    Upload
    | Download
    | CopyS3
    | LinkLocal
    | TrashLocal
    | TrashS3
    | BackupLocal
    | BackupS3
    | Record
    | Unrecord
)


def transfer_bytes(op: Op) -> int:
    """Bytes this op moves over the network (what progress counts)."""
    if isinstance(op, Upload):
        return op.local.size
    if isinstance(op, Download):
        return op.remote.size
    return 0
