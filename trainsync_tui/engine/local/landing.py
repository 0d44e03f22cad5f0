"""The executor's writes to training_data/: where a download may land, the rename that puts
it there without replacing a user's edit, second names (links) and the trash.

Every mkdir, link and rename goes through a folder descriptor opened from the actor's folder
down, each component with O_NOFOLLOW: a folder swapped for a symbolic link at any moment
(after it was checked, during a download) makes that one write fail with one line, never
land outside. Checking paths first and then writing by path leaves that moment open.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.actors.obstacles import (
    FOLDER_LINK,
    folder_is_file,
    folder_is_link,
    kind_of,
    taken_by,
)
from trainsync_tui.engine.errors import TransferError
from trainsync_tui.engine.hashing import FileStamp
from trainsync_tui.engine.local.stamps import stamp_now, unchanged_since_audit
from trainsync_tui.engine.local.tempfiles import TempFiles
from trainsync_tui.engine.scanned import LocalFile

CHANGED_DURING_DOWNLOAD = "changed locally during the download; kept, sync again"
CREATED_DURING_DOWNLOAD = "created locally during the download; kept, sync again"
REMOVED_DURING_DOWNLOAD = "removed locally during the download; not restored, sync again"
_BELOW = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW


@contextlib.contextmanager
def folder_below(top: Path, folder: str, *, create: bool = False) -> Iterator[int]:
    """A descriptor of `top`/`folder` (a relative POSIX path, "" for `top`), each component
    below `top` opened without following a link, and made first when `create`. A component
    that is a link or not a folder is a TransferError naming it."""
    try:
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        if not create:
            raise
        top.mkdir(parents=True, exist_ok=True)  # `top` itself may be a link (checked apart)
        fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        parts = [part for part in folder.split("/") if part]
        for n in range(1, len(parts) + 1):
            child = _open_component(top, parts[:n], fd, create)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _open_component(top: Path, parts: list[str], parent: int, create: bool) -> int:
    name = parts[-1]
    try:
        try:
            return os.open(name, _BELOW, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, dir_fd=parent)
            return os.open(name, _BELOW, dir_fd=parent)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
    shown = "/".join(parts)
    try:
        st = os.lstat(name, dir_fd=parent)
    except OSError:
        raise TransferError(
            f"its folder {shown}/ changed while it was opened; sync again"
        ) from None
    if stat.S_ISLNK(st.st_mode):
        root = os.path.realpath(top)
        outside = not os.path.realpath(top / shown).startswith(root + os.sep)
        return _raise(folder_is_link(shown, outside=outside))
    kind = "a file" if stat.S_ISREG(st.st_mode) else kind_of(st.st_mode)
    return _raise(folder_is_file(shown, kind))


def _is_folder(name: str, folder: int) -> bool:
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=folder).st_mode)
    except OSError:
        return False


def _raise(message: str) -> int:
    raise TransferError(message)


def _copy_into(source: Path, name: str, folder: int) -> None:
    """Copy `source` to a new file `name` in `folder` (a descriptor), with its times."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    out = os.open(name, flags, 0o644, dir_fd=folder)
    with open(source, "rb") as reader, os.fdopen(out, "wb") as writer:
        shutil.copyfileobj(reader, writer, 1024 * 1024)
        st = os.fstat(reader.fileno())
        os.utime(writer.fileno(), ns=(st.st_atime_ns, st.st_mtime_ns))


class Landing:
    """Local writes of one run; every one refuses rather than replace what it did not expect."""

    def __init__(self, layout: ActorLayout, temps: TempFiles, stamp: str) -> None:
        self.layout = layout
        self.temps = temps
        self.stamp = stamp
        # A hard link we make (keep-both, a backup) moves the file's ctime: what it is now.
        self._ctime_after_link: dict[str, int] = {}

    def _in_training(self, path: Path) -> tuple[str, str]:
        """(folder below training_data/, name) of a path there."""
        rel = path.relative_to(self.layout.training_dir)
        folder = str(rel.parent)
        return ("" if folder == "." else folder), rel.name

    def target(self, dest: str) -> Path:
        """The local path for plan path `dest`, with its folders made; refused when a folder
        on the way is a symbolic link or a file, or the name is taken by something else."""
        target = self.layout.local(dest)
        folder, name = self._in_training(target)
        with folder_below(self.layout.training_dir, folder, create=True) as fd:
            try:
                st = os.lstat(name, dir_fd=fd)
            except FileNotFoundError:
                return target
            if stat.S_ISDIR(st.st_mode):
                raise TransferError("a folder of that name exists locally")
            if stat.S_ISLNK(st.st_mode) and _is_folder(name, fd):
                raise TransferError(taken_by(FOLDER_LINK))
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            raise TransferError(taken_by(kind_of(st.st_mode)))
        return target

    def _unchanged(self, path: Path, local: LocalFile) -> os.stat_result:
        ctime = self._ctime_after_link.get(local.disk_path, local.ctime_ns)
        return unchanged_since_audit(path, local.size, local.mtime, ctime)

    def _linked(self, local: LocalFile, source: Path) -> None:
        with contextlib.suppress(OSError):
            self._ctime_after_link[local.disk_path] = os.stat(source).st_ctime_ns

    def expect(self, local: LocalFile | None, target: Path) -> FileStamp | None:
        """What `target` is before a download over it: the stamp of the file the audit listed,
        or None for a new path (which must still be absent)."""
        if local is None:
            if os.path.lexists(target):
                raise TransferError("appeared locally since the audit; sync again")
            return None
        return FileStamp.of(self._unchanged(target, local))

    def land(self, temp: Path, target: Path, before: FileStamp | None) -> None:
        """Rename a verified download into place, unless the local file moved meanwhile.

        Over an existing file the stamp is taken again just before the rename (a POSIX rename
        has no compare-and-swap; what is left is the few microseconds between stat and
        rename). A new path is hard-linked, which fails, atomically, if the name was taken.
        """
        folder, name = self._in_training(target)
        try:
            with folder_below(self.layout.training_dir, folder) as fd:
                if before is None:
                    self._land_new(temp, name, fd)
                    return
                try:
                    now = FileStamp.of(os.stat(name, dir_fd=fd))
                except FileNotFoundError:
                    raise TransferError(REMOVED_DURING_DOWNLOAD) from None
                if now != before:
                    raise TransferError(CHANGED_DURING_DOWNLOAD)
                os.replace(temp, name, dst_dir_fd=fd)
        except FileNotFoundError:
            raise TransferError(REMOVED_DURING_DOWNLOAD) from None
        finally:
            self.temps.discard(temp)

    def _land_new(self, temp: Path, name: str, folder: int) -> None:
        # link() never replaces: portable across POSIX systems and filesystems, unlike
        # renameat2(RENAME_NOREPLACE) (Linux only, and not on every filesystem).
        try:
            os.link(temp, name, dst_dir_fd=folder)
        except FileExistsError:
            raise TransferError(CREATED_DURING_DOWNLOAD) from None
        except OSError:
            # A filesystem without hard links (some FUSE and SMB mounts): check, then rename.
            with contextlib.suppress(FileNotFoundError):
                os.lstat(name, dir_fd=folder)
                raise TransferError(CREATED_DURING_DOWNLOAD) from None
            os.replace(temp, name, dst_dir_fd=folder)

    def link(self, local: LocalFile, dest: str) -> Path:
        """A second name `dest` for `local` (keep-both), never over an existing file."""
        source = self.layout.local(local.disk_path)
        self._unchanged(source, local)
        target = self.target(dest)
        top = self.layout.training_dir
        (s_folder, s_name), (t_folder, t_name) = map(self._in_training, (source, target))
        with folder_below(top, s_folder) as s_fd, folder_below(top, t_folder) as t_fd:
            try:
                os.link(s_name, t_name, src_dir_fd=s_fd, dst_dir_fd=t_fd)
                self._linked(local, source)
            except FileExistsError:
                raise TransferError(f"{dest} already exists locally") from None
            except OSError:
                temp = self.temps.new(target)
                try:
                    shutil.copy2(source, temp)
                    self._land_new(temp, t_name, t_fd)
                except TransferError:
                    raise TransferError(f"{dest} already exists locally") from None
                finally:
                    self.temps.discard(temp)
        return target

    @contextlib.contextmanager
    def _trash_slot(self, path: str) -> Iterator[tuple[int, str]]:
        """(folder descriptor, free name) in this run's trash for plan path `path`."""
        trash = (self.layout.trash_dir / self.stamp / path).parent
        folder = str(trash.relative_to(self.layout.actor_dir))
        with folder_below(self.layout.actor_dir, folder, create=True) as fd:
            name = base = Path(path).name
            n = 1
            while True:  # never over an earlier trashed copy
                try:
                    os.lstat(name, dir_fd=fd)
                except FileNotFoundError:
                    break
                name = f"{base}.{n}"
                n += 1
            yield fd, name

    @contextlib.contextmanager
    def _to_trash(self, source: Path, path: str) -> Iterator[tuple[int, str, int, str]]:
        """The file's folder and name, then a free name in this run's trash for it (each as
        folder descriptor, name), for a move or a link from one to the other."""
        s_folder, s_name = self._in_training(source)
        with (
            folder_below(self.layout.training_dir, s_folder) as s_fd,
            self._trash_slot(path) as (t_fd, t_name),
        ):
            yield s_fd, s_name, t_fd, t_name

    def trash(self, local: LocalFile) -> None:
        source = self.layout.local(local.disk_path)
        before = FileStamp.of(self._unchanged(source, local))
        with self._to_trash(source, local.disk_path) as (s_fd, s_name, t_fd, t_name):
            try:
                os.rename(s_name, t_name, src_dir_fd=s_fd, dst_dir_fd=t_fd)
                return
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
            # The file is on another filesystem than the trash (a mount inside
            # training_data/, or a linked training_data/): copy, then remove it only if it
            # did not change.
            _copy_into(source, t_name, t_fd)
            if stamp_now(source) != before:
                os.unlink(t_name, dir_fd=t_fd)
                raise TransferError("changed locally while it was moved to the trash; sync again")
            os.unlink(s_name, dir_fd=s_fd)

    def backup(self, local: LocalFile) -> None:
        source = self.layout.local(local.disk_path)
        self._unchanged(source, local)
        with self._to_trash(source, local.disk_path) as (s_fd, s_name, t_fd, t_name):
            try:
                # A hard link keeps the old bytes when the download replaces the name.
                os.link(s_name, t_name, src_dir_fd=s_fd, dst_dir_fd=t_fd)
                self._linked(local, source)
            except OSError:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(t_name, dir_fd=t_fd)
                _copy_into(source, t_name, t_fd)
