"""The executor's writes to training_data/: where a download may land, the rename that puts
it there without replacing a user's edit, second names (links) and the trash."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
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


class Landing:
    """Local writes of one run; every one refuses rather than replace what it did not expect."""

    def __init__(self, layout: ActorLayout, temps: TempFiles, stamp: str) -> None:
        self.layout = layout
        self.temps = temps
        self.stamp = stamp
        # Folders already checked (an lstat per component: once per folder, not per file).
        self._safe_folders: set[str] = set()

    def target(self, dest: str) -> Path:
        """The local path for plan path `dest`, with its folders made; refused when a folder
        on the way is a symbolic link or a file, or the name is taken by something else."""
        target = self.layout.local(dest)
        folder = os.path.dirname(dest)
        if folder and folder not in self._safe_folders:
            self._check_folders(folder)
            self._safe_folders.add(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            return target
        if stat.S_ISDIR(st.st_mode):
            raise TransferError("a folder of that name exists locally")
        if stat.S_ISLNK(st.st_mode) and os.path.isdir(target):
            raise TransferError(taken_by(FOLDER_LINK))
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            raise TransferError(taken_by(kind_of(st.st_mode)))
        return target

    def _check_folders(self, folder: str) -> None:
        """Walk `folder` from training_data/ down: stop at the first missing component (the
        rest is made), refuse a link (a download through it would land under another name,
        and the next scan would upload it again as a new file) or a file."""
        here = self.layout.training_dir
        parts = folder.split("/")
        for n, part in enumerate(parts, 1):
            here = here / part
            shown = "/".join(parts[:n])
            try:
                st = os.lstat(here)
            except FileNotFoundError:
                return
            if stat.S_ISLNK(st.st_mode):
                root = os.path.realpath(self.layout.training_dir)
                outside = not os.path.realpath(here).startswith(root + os.sep)
                raise TransferError(folder_is_link(shown, outside=outside))
            if not stat.S_ISDIR(st.st_mode):
                kind = "a file" if stat.S_ISREG(st.st_mode) else kind_of(st.st_mode)
                raise TransferError(folder_is_file(shown, kind))

    def expect(self, local: LocalFile | None, target: Path) -> FileStamp | None:
        """What `target` is before a download over it: the stamp of the file the audit listed,
        or None for a new path (which must still be absent)."""
        if local is None:
            if os.path.lexists(target):
                raise TransferError("appeared locally since the audit; sync again")
            return None
        return FileStamp.of(unchanged_since_audit(target, local.size, local.mtime))

    def land(self, temp: Path, target: Path, before: FileStamp | None) -> None:
        """Rename a verified download into place, unless the local file moved meanwhile.

        Over an existing file the stamp is taken again just before the rename (a POSIX rename
        has no compare-and-swap; what is left is the few microseconds between stat and
        rename). A new path is hard-linked, which fails, atomically, if the name was taken.
        """
        try:
            if before is None:
                self._land_new(temp, target)
            else:
                now = stamp_now(target)
                if now is None:
                    raise TransferError(REMOVED_DURING_DOWNLOAD)
                if now != before:
                    raise TransferError(CHANGED_DURING_DOWNLOAD)
                os.replace(temp, target)
        finally:
            self.temps.discard(temp)

    def _land_new(self, temp: Path, target: Path) -> None:
        # link() never replaces: portable across POSIX systems and filesystems, unlike
        # renameat2(RENAME_NOREPLACE) (Linux only, and not on every filesystem).
        try:
            os.link(temp, target)
        except FileExistsError:
            raise TransferError(CREATED_DURING_DOWNLOAD) from None
        except OSError:
            # A filesystem without hard links (some FUSE and SMB mounts): check, then rename.
            if os.path.lexists(target):
                raise TransferError(CREATED_DURING_DOWNLOAD) from None
            os.replace(temp, target)

    def link(self, local: LocalFile, dest: str) -> Path:
        """A second name `dest` for `local` (keep-both), never over an existing file."""
        source = self.layout.local(local.disk_path)
        unchanged_since_audit(source, local.size, local.mtime)
        target = self.target(dest)
        try:
            os.link(source, target)
        except FileExistsError:
            raise TransferError(f"{dest} already exists locally") from None
        except OSError:
            temp = self.temps.new(target)
            try:
                shutil.copy2(source, temp)
                self._land_new(temp, target)
            except TransferError:
                raise TransferError(f"{dest} already exists locally") from None
            finally:
                self.temps.discard(temp)
        return target

    def _trash_target(self, path: str) -> Path:
        target = self.layout.trash_dir / self.stamp / path
        target.parent.mkdir(parents=True, exist_ok=True)
        n = 1
        while os.path.lexists(target):  # never over an earlier trashed copy
            target = target.with_name(f"{Path(path).name}.{n}")
            n += 1
        return target

    def trash(self, local: LocalFile) -> None:
        source = self.layout.local(local.disk_path)
        before = FileStamp.of(unchanged_since_audit(source, local.size, local.mtime))
        target = self._trash_target(local.disk_path)
        try:
            os.rename(source, target)
            return
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        # The file is on another filesystem than the trash (a mount inside training_data/,
        # or a linked training_data/): copy, then remove it only if it did not change.
        shutil.copy2(source, target)
        if stamp_now(source) != before:
            target.unlink()
            raise TransferError("changed locally while it was moved to the trash; sync again")
        os.unlink(source)

    def backup(self, local: LocalFile) -> None:
        source = self.layout.local(local.disk_path)
        unchanged_since_audit(source, local.size, local.mtime)
        target = self._trash_target(local.disk_path)
        try:
            # A hard link keeps the old bytes when the download replaces the name.
            os.link(source, target)
        except OSError:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            shutil.copy2(source, target)
