"""The run's temporary files: where a download lands before its rename, and their clean-up.

A temp file normally sits in the actor's staging folder (.trainsync/tmp), which holds
nothing else, so a killed run's leftovers there are ours to delete. A target folder on
another filesystem needs its temp beside it (a rename cannot cross filesystems): such a
temp is inside training_data/, among the user's files. Each run names its temps with a
random token of its own, and before its first temp in such a folder it journals (fsync'd)
the pair (token, folder): one write per folder and run, not one per file. The next run
deletes, in the journalled folders only, the files named with a journalled token; any other
file named like a temp is the user's, and the scan reports it instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from collections import defaultdict
from pathlib import Path

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.paths import TEMP_PREFIX

# folder -> tokens of the runs that may have left temps in it
Journalled = dict[str, set[str]]


def temp_path(folder: Path, token: str = "", count: int | None = None) -> Path:
    """A temp name in `folder`: the run's `token`, then its `count` of temps so far (unique
    within the run) or, without one, random."""
    unique = uuid.uuid4().hex if count is None else f"{count:x}"
    return folder / f"{TEMP_PREFIX}{token}-{unique}"


def is_ours(name: str, tokens: set[str]) -> bool:
    """Whether a temp name was made by one of the runs with `tokens`."""
    return any(name.startswith(f"{TEMP_PREFIX}{token}-") for token in tokens)


class TempFiles:
    """Names the temp files of one run and journals the folders outside the staging folder."""

    def __init__(self, layout: ActorLayout) -> None:
        self.layout = layout
        self.token = uuid.uuid4().hex[:16]
        self._lock = threading.Lock()
        self._folders: set[str] = set()
        self._live: set[Path] = set()
        self._made = 0
        self._staging: dict[Path, Path] = {}  # a target's folder -> where its temps go

    def new(self, target: Path) -> Path:
        """A fresh temp path on the filesystem of `target`; its folder is journalled first.
        Named by the run's token and a count: unique within the run, and no random bytes
        asked of the kernel per file (20,000 small downloads made 20,000 such calls)."""
        folder = self._staging.get(target.parent)
        if folder is None:  # one mkdir and two stats per folder, not per file
            folder = self._staging[target.parent] = self.layout.staging_for(target)
        if folder != self.layout.staging_dir:
            self._journal(str(folder))
        with self._lock:
            self._made += 1
            temp = temp_path(folder, self.token, self._made)
            self._live.add(temp)
        return temp

    def discard(self, temp: Path) -> None:
        """`temp` was renamed into place, or is removed now."""
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        with self._lock:
            self._live.discard(temp)

    def close(self) -> None:
        """At the end of a run: with no temp left, the journal has nothing to say."""
        with self._lock:
            if self._live or not self._folders:
                return
        with contextlib.suppress(FileNotFoundError):
            self.layout.temp_journal.unlink()

    def _journal(self, folder: str) -> None:
        with self._lock:
            if folder in self._folders:
                return
            # Written and fsync'd under the lock: no temp of this folder exists before it.
            line = json.dumps([self.token, folder]) + "\n"
            journal = self.layout.temp_journal
            journal.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8", "surrogateescape"))
                os.fsync(fd)
            finally:
                os.close(fd)
            self._folders.add(folder)


def journalled(journal: Path) -> Journalled:
    """The folders the journal names, each with the tokens of the runs that used it."""
    try:
        raw = journal.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return {}
    found: Journalled = defaultdict(set)
    for line in raw.splitlines():
        try:
            token, folder = json.loads(line)
        except ValueError:
            continue  # the last line of a run killed while writing it
        if isinstance(token, str) and isinstance(folder, str) and token:
            found[folder].add(token)
    return dict(found)


def remove_temp_files(layout: ActorLayout) -> None:
    """Delete the temp files a killed run left (only while holding the actor lock): every
    temp in the staging folder, and in the journalled folders those of journalled runs."""
    staging = layout.staging_dir
    if staging.is_dir():
        for stale in staging.iterdir():
            if stale.name.startswith(TEMP_PREFIX):
                with contextlib.suppress(OSError):
                    stale.unlink()
    top = str(layout.training_dir)
    kept = False
    for folder, tokens in journalled(layout.temp_journal).items():
        # A damaged journal must never reach a folder outside training_data/.
        inside = folder == top or folder.startswith(top + os.sep)
        if not inside or os.path.normpath(folder) != folder:
            continue
        try:
            names = [e.name for e in os.scandir(folder) if is_ours(e.name, tokens)]
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            kept = True  # try again next run rather than forget it
            continue
        for name in names:
            try:
                os.unlink(os.path.join(folder, name))
            except FileNotFoundError:
                pass
            except OSError:
                kept = True
    if not kept:
        with contextlib.suppress(FileNotFoundError):
            layout.temp_journal.unlink()
