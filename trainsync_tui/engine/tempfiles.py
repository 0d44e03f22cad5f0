"""The run's temporary files: where a download lands before its rename, and their clean-up.

A temp file normally sits in the actor's staging folder (.trainsync/tmp), which holds
nothing else, so a killed run's leftovers there are ours to delete. A target folder on
another filesystem needs its temp beside it (a rename cannot cross filesystems): such a
temp is inside training_data/, among the user's files, so its path is written to a journal
(and fsync'd) before the file is created. The next run deletes exactly the journalled temps
that are still there; any other file named like a temp is the user's, and the scan reports
it instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from pathlib import Path

from trainsync_tui.engine.layout import ActorLayout
from trainsync_tui.engine.paths import TEMP_PREFIX

_CREATED = "+"
_GONE = "-"


def temp_path(folder: Path) -> Path:
    return folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}"


class TempFiles:
    """Names the temp files of one run and journals those outside the staging folder."""

    def __init__(self, layout: ActorLayout) -> None:
        self.layout = layout
        self._lock = threading.Lock()
        self._live: set[str] = set()

    def new(self, target: Path) -> Path:
        """A fresh temp path on the filesystem of `target`; journalled before it can exist."""
        folder = self.layout.staging_for(target)
        temp = temp_path(folder)
        if folder != self.layout.staging_dir:
            self._append(_CREATED, temp, durable=True)
            with self._lock:
                self._live.add(str(temp))
        return temp

    def done(self, temp: Path) -> None:
        """`temp` was renamed into place or removed: its journal record goes."""
        with self._lock:
            if str(temp) not in self._live:
                return
            self._live.discard(str(temp))
        # Not fsync'd: a lost "gone" record only makes the next run try to delete a
        # random name that no longer exists.
        self._append(_GONE, temp, durable=False)

    def discard(self, temp: Path) -> None:
        """Remove `temp` if it is still there, and its record."""
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        self.done(temp)

    def close(self) -> None:
        """At the end of a run: with no temp left, the journal has nothing to say."""
        with self._lock:
            if self._live:
                return
        with contextlib.suppress(FileNotFoundError):
            self.layout.temp_journal.unlink()

    def _append(self, mark: str, temp: Path, *, durable: bool) -> None:
        line = mark + json.dumps(str(temp)) + "\n"
        with self._lock:
            self.layout.work_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.layout.temp_journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8", "surrogateescape"))
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)


def journalled_temps(journal: Path) -> set[str]:
    """Temp paths the journal says were created and not yet renamed or removed."""
    try:
        raw = journal.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return set()
    live: set[str] = set()
    for line in raw.splitlines():
        try:
            path = json.loads(line[1:])
        except ValueError:
            continue  # the last line of a run killed while writing it
        if not isinstance(path, str):
            continue
        if line.startswith(_CREATED):
            live.add(path)
        elif line.startswith(_GONE):
            live.discard(path)
    return live


def remove_temp_files(layout: ActorLayout) -> None:
    """Delete the temp files a killed run left (only while holding the actor lock): every
    temp in the staging folder, and the journalled ones inside training_data/."""
    staging = layout.staging_dir
    if staging.is_dir():
        for stale in staging.iterdir():
            if stale.name.startswith(TEMP_PREFIX):
                with contextlib.suppress(OSError):
                    stale.unlink()
    top = str(layout.training_dir) + os.sep
    kept = False
    for path in journalled_temps(layout.temp_journal):
        # A damaged journal must never delete anything but a temp name under training_data/.
        if not (
            path.startswith(top)
            and os.path.normpath(path) == path
            and Path(path).name.startswith(TEMP_PREFIX)
        ):
            continue
        try:
            Path(path).unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError:
            kept = True  # try again next run rather than forget it
    if not kept:
        with contextlib.suppress(FileNotFoundError):
            layout.temp_journal.unlink()
