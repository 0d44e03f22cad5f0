"""Where an actor's files, manifest, temp files and trash live, locally and in S3."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from trainsync_tui.engine.actors.names import local_folder
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import ActorNameError
from trainsync_tui.engine.paths import actor_id_of, actor_name_problem, normalise

_WORK_DIR = ".trainsync"
MANIFEST_NAME = "manifest.json"


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def training_link_problem(training_dir: Path) -> str | None:
    """Why a training_data/ that is a symbolic link is refused, or None to follow it.

    Followed: a link to a folder of its own, as when the data lives on another disk.
    Refused: a link that leads nowhere (a disk not mounted: an empty tree would read as every
    file deleted), a link into the actors folder (two actors would share one tree, or an
    actor would hold itself), a link to a folder holding the actor's own (the scan would
    walk trainsync's state and the link again).
    """
    if not training_dir.is_symlink():
        return None
    real = os.path.realpath(training_dir)
    if not os.path.isdir(real):
        return f"is a symbolic link to {real}, which is not a folder; mount it or fix the link"
    actor_dir = os.path.realpath(training_dir.parent)
    if _inside(real, os.path.dirname(actor_dir)):
        return (
            f"is a symbolic link into the actors folder ({real}), so two actors would share "
            "files; point it at a folder of its own"
        )
    if _inside(actor_dir, real):
        return (
            f"is a symbolic link to {real}, which holds the actor's own folder; "
            "point it at a folder of its own"
        )
    return None


def temp_journal_of(training_dir: Path) -> Path:
    """The journal of temp files a run made inside `training_dir` (see local/tempfiles.py)."""
    return training_dir.parent / _WORK_DIR / "temp-files"


@dataclass(frozen=True)
class ActorLayout:
    name: str
    actor_id: str
    actor_dir: Path
    prefix: str
    trash_prefix: str

    @property
    def training_dir(self) -> Path:
        return self.actor_dir / "training_data"

    @property
    def manifest_path(self) -> Path:
        return self.actor_dir / MANIFEST_NAME

    @property
    def work_dir(self) -> Path:
        """Temp files and trash, beside training_data/ so a kill leaves nothing inside it."""
        return self.actor_dir / _WORK_DIR

    @property
    def staging_dir(self) -> Path:
        return self.work_dir / "tmp"

    @property
    def trash_dir(self) -> Path:
        return self.work_dir / "trash"

    @property
    def temp_journal(self) -> Path:
        return temp_journal_of(self.training_dir)

    @property
    def multipart_journal(self) -> Path:
        return self.work_dir / "multipart-uploads"

    def key(self, path: str) -> str:
        return self.prefix + path

    def local(self, disk_path: str) -> Path:
        return self.training_dir / disk_path

    def staging_for(self, target: Path) -> Path:
        """The staging folder, when it shares a filesystem with `target` (rename must be atomic)."""
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        if os.stat(self.staging_dir).st_dev == os.stat(target.parent).st_dev:
            return self.staging_dir
        return target.parent


def actor_layout(settings: Settings, actor_name: str, actor_id: str | None = None) -> ActorLayout:
    """Check the actor name (and id, when given) and say where everything of it lives.

    The actor is its NFC name; its folder keeps the spelling on disk (actors/names.py).
    """
    actor_name = normalise(actor_name)
    problem = actor_name_problem(actor_name)
    if problem:
        raise ActorNameError(f"actor name {actor_name!r} {problem}: give the actor's folder name")
    derived = actor_id_of(actor_name) or ""
    if actor_id is not None and actor_id != derived:
        raise ActorNameError(
            f"actor id {actor_id!r} does not match actor name {actor_name!r} "
            f"(expected {derived or 'a name starting with digits and _'})"
        )
    return ActorLayout(
        actor_name,
        derived,
        settings.actors_dir / local_folder(settings.actors_dir, actor_name),
        settings.prefix_for(actor_name),
        settings.trash_prefix_for(actor_name),
    )
