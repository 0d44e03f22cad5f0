"""One actor per NFC name: which local folder and which S3 prefix spell it.

macOS tools write names in NFD, Linux keeps whatever bytes it was given, so `0201_café` can
exist as two byte strings. The actor is its NFC name (lock, history, reports); its local
folder keeps the spelling on disk and its S3 prefix the spelling that S3 holds (NFC for a
new one; s3/actor_prefixes.py finds it). Two spellings of one actor on the same side are
refused: merging them is a person's decision. Singleton forms that NFC maps to ASCII (U+212A
KELVIN SIGN) are not looked for: no tool writes them for a name.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from trainsync_tui.engine.errors import ActorNameError
from trainsync_tui.engine.paths import actor_name_problem, normalise

if TYPE_CHECKING:
    from trainsync_tui.engine.config import Settings


def _has_other_forms(name: str) -> bool:
    """Whether an NFC name can be spelt differently (it holds a character that decomposes)."""
    return not name.isascii() and unicodedata.normalize("NFD", name) != name


def describe(spelling: str) -> str:
    """A spelling that shows which form it is: two forms look the same on a terminal."""
    if spelling == normalise(spelling):
        form = "NFC"
    elif spelling == unicodedata.normalize("NFD", spelling):
        form = "NFD"
    else:
        form = "mixed form"
    return f"{spelling!a} ({form})"


def group_spellings(names: Iterable[str]) -> dict[str, list[str]]:
    """Spellings by the actor (NFC name) they stand for, each list sorted."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(normalise(name), []).append(name)
    for spellings in groups.values():
        spellings.sort()
    return groups


def clash_line(where: str, spellings: list[str]) -> str:
    forms = " and ".join(describe(s) for s in spellings)
    return (
        f"{where} {forms} are one actor name in different Unicode forms; "
        "merge them into one, then sync"
    )


def local_actor_folders(actors_dir: Path) -> dict[str, list[str]]:
    """Folder spellings under data/actors/ by actor (NFC name); refused names are left out."""
    if not actors_dir.is_dir():
        return {}
    return group_spellings(
        p.name for p in actors_dir.iterdir() if p.is_dir() and not actor_name_problem(p.name)
    )


def every_actor(
    settings: Settings, in_s3: Iterable[str], on_skip: Callable[[str], None] | None
) -> list[str]:
    """Actors (NFC names) with a local folder or an S3 folder (`in_s3`, as listed), sorted;
    `on_skip` gets a line per folder left out, so a caller can tell the user which and why."""
    local = local_actor_folders(settings.actors_dir)
    clashes = {n: clash_line("local folders", s) for n, s in local.items() if len(s) > 1}
    bucket, actors_prefix = settings.bucket, settings.actors_prefix
    # With a prefix at the bucket root, the trash prefix's folder looks like an actor.
    trash_root = settings.trash_prefix.split("{", 1)[0]
    s3_names: list[str] = []
    for n in in_s3:
        if trash_root and settings.prefix_for(n).startswith(trash_root):
            continue  # our own trash, not a skipped actor
        problem = actor_name_problem(n)
        if problem is None:
            s3_names.append(n)
        elif on_skip is not None:  # repr(): a control character must not reach a terminal
            folder = f"s3://{bucket}/{actors_prefix}{n}/"
            on_skip(f"S3 folder {folder!r} skipped: its name {problem}; rename it to sync it")
    in_s3_groups = group_spellings(s3_names)
    for name, spellings in in_s3_groups.items():
        if len(spellings) > 1:
            where = f"S3 folders in s3://{bucket}/{actors_prefix}"
            clashes.setdefault(name, clash_line(where, spellings))
    if on_skip is not None:
        for line in clashes.values():
            on_skip(f"skipped: {line}")  # one actor in two Unicode forms, until merged
    return sorted((set(local) | set(in_s3_groups)) - set(clashes))


def local_folder(actors_dir: Path, name: str) -> str:
    """The folder name on disk for actor `name` (NFC), or `name` when it has none yet."""
    if not _has_other_forms(name):
        return name
    try:
        with os.scandir(actors_dir) as entries:
            found = sorted(e.name for e in entries if normalise(e.name) == name and e.is_dir())
    except FileNotFoundError:
        return name
    if len(found) > 1:
        raise ActorNameError(clash_line(f"local folders in {actors_dir}:", found))
    return found[0] if found else name
