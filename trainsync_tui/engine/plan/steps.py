"""The steps an action is made of; the executor runs them in order, one action at a time.

Each step says what it is to the rest of the engine, so no one classifies steps by type:
its `direction` ("up" changes S3, "down" changes local files, "" neither), the report
count it adds (`count_key`), the bytes it moves (`sends`, `fetches`, `transfer_bytes`),
whether it deletes a file, how it is carried out (`run`, on a `StepRunner`) and what it
does to the manifest (`edit_manifest`, on `ManifestEdits`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

from trainsync_tui.engine.scanned import LocalFile, ManifestEntry, RemoteObject


class StepRunner(Protocol):
    """What carries out the steps that touch files or S3 (the executor).

    `upload` and `download` return the MD5 they verified of what they wrote."""

    def upload(self, step: Upload) -> str: ...
    def download(self, step: Download) -> str: ...
    def copy_s3(self, step: CopyS3) -> None: ...
    def link_local(self, step: LinkLocal) -> None: ...
    def trash_local(self, step: TrashLocal) -> None: ...
    def trash_s3(self, step: TrashS3) -> None: ...
    def backup_local(self, step: BackupLocal) -> None: ...
    def backup_s3(self, step: BackupS3) -> None: ...


class ManifestEdits(Protocol):
    """Where the manifest steps of a finished action write (the executor's pending changes)."""

    def record(self, path: str, md5: str, size: int) -> None: ...
    def unrecord(self, path: str) -> None: ...


class Step:
    """What every step answers; a step overrides only what is true of it."""

    __slots__ = ()

    direction: ClassVar[str] = ""
    # The seed's report key this step adds when its action succeeds (see counts.py).
    count_key: ClassVar[str | None] = None
    deletes: ClassVar[bool] = False

    @property
    def sends(self) -> LocalFile | None:
        """The local file whose bytes this step puts to S3."""
        return None

    @property
    def fetches(self) -> RemoteObject | None:
        """The object whose bytes this step gets from S3."""
        return None

    @property
    def transfer_bytes(self) -> int:
        """Bytes this step moves over the network (what progress counts)."""
        sent, fetched = self.sends, self.fetches
        return (sent.size if sent else 0) + (fetched.size if fetched else 0)

    def counts_as(
        self, manifest: Mapping[str, ManifestEntry], verified: Mapping[str, str]
    ) -> str | None:
        """The report key this step adds once its action succeeded, given what it verified."""
        return self.count_key

    def run(self, runner: StepRunner) -> tuple[str, str] | None:
        """Carry the step out; returns (plan path, verified MD5) for what it wrote."""
        return None

    def edit_manifest(self, edits: ManifestEdits, verified: Mapping[str, str]) -> None:
        """Change the manifest once the action's transfers are done; most steps do not."""


@dataclass(frozen=True, slots=True)
class Upload(Step):
    """Send `local` to the key of `dest`; `replaces` is the object it overwrites, if any."""

    local: LocalFile
    dest: str
    replaces: RemoteObject | None

    direction: ClassVar[str] = "up"
    count_key: ClassVar[str | None] = "uploaded"

    @property
    def sends(self) -> LocalFile:
        return self.local

    def run(self, runner: StepRunner) -> tuple[str, str]:
        return self.dest, runner.upload(self)


@dataclass(frozen=True, slots=True)
class Download(Step):
    """Fetch `remote` into `dest` (a plan path); `replaces` is the local file it overwrites."""

    remote: RemoteObject
    dest: str
    replaces: LocalFile | None

    direction: ClassVar[str] = "down"
    count_key: ClassVar[str | None] = "downloaded"

    @property
    def fetches(self) -> RemoteObject:
        return self.remote

    def run(self, runner: StepRunner) -> tuple[str, str]:
        return self.dest, runner.download(self)


@dataclass(frozen=True, slots=True)
class CopyS3(Step):
    """Server-side copy of `remote` to the key of `dest` (the loser of a keep-both)."""

    remote: RemoteObject
    dest: str

    direction: ClassVar[str] = "up"

    def run(self, runner: StepRunner) -> None:
        runner.copy_s3(self)


@dataclass(frozen=True, slots=True)
class LinkLocal(Step):
    """Keep a second local name `dest` for `local` (the loser of a keep-both)."""

    local: LocalFile
    dest: str

    direction: ClassVar[str] = "down"

    def run(self, runner: StepRunner) -> None:
        runner.link_local(self)


@dataclass(frozen=True, slots=True)
class TrashLocal(Step):
    """Move an orphan local file to the actor's trash folder."""

    local: LocalFile

    direction: ClassVar[str] = "down"
    count_key: ClassVar[str | None] = "deleted_local"
    deletes: ClassVar[bool] = True

    def run(self, runner: StepRunner) -> None:
        runner.trash_local(self)


@dataclass(frozen=True, slots=True)
class TrashS3(Step):
    """Copy an orphan object to the trash prefix (unless versioned), then delete it."""

    remote: RemoteObject

    direction: ClassVar[str] = "up"
    count_key: ClassVar[str | None] = "deleted_s3"
    deletes: ClassVar[bool] = True

    def run(self, runner: StepRunner) -> None:
        runner.trash_s3(self)


@dataclass(frozen=True, slots=True)
class BackupLocal(Step):
    """Keep a copy of a local file that a conflict resolution is about to overwrite."""

    local: LocalFile

    def run(self, runner: StepRunner) -> None:
        runner.backup_local(self)


@dataclass(frozen=True, slots=True)
class BackupS3(Step):
    """Keep a copy of an object that a conflict resolution is about to overwrite."""

    remote: RemoteObject

    def run(self, runner: StepRunner) -> None:
        runner.backup_s3(self)


@dataclass(frozen=True, slots=True)
class Record(Step):
    """Set the manifest entry of `path`; md5 None means "what the transfer to it verified"."""

    path: str
    md5: str | None
    size: int

    def counts_as(
        self, manifest: Mapping[str, ManifestEntry], verified: Mapping[str, str]
    ) -> str | None:
        before = manifest.get(self.path)
        if before is None:
            return "added_to_manifest"
        md5 = self.md5 or verified.get(self.path)
        if md5 is None or md5 != before.md5:
            return "updated_in_manifest"
        return None

    def edit_manifest(self, edits: ManifestEdits, verified: Mapping[str, str]) -> None:
        edits.record(self.path, self.md5 or verified[self.path], self.size)


@dataclass(frozen=True, slots=True)
class Unrecord(Step):
    path: str

    count_key: ClassVar[str | None] = "removed_from_manifest"

    def edit_manifest(self, edits: ManifestEdits, verified: Mapping[str, str]) -> None:
        edits.unrecord(self.path)


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
