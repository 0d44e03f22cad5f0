"""One actor per NFC name: which local folder and which S3 prefix spell it.

macOS tools write names in NFD, Linux keeps whatever bytes it was given, so `0201_café`
can exist as two byte strings. The actor is its NFC name (lock, history, reports); its
local folder keeps the spelling on disk and its S3 prefix the spelling that S3 holds (NFC
for a new one). Two spellings of one actor on the same side are refused: merging them is a
person's decision. Singleton forms that NFC maps to ASCII (U+212A KELVIN SIGN) are not
looked for: no tool writes them for a name.
"""

from __future__ import annotations

import dataclasses
import os
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainsync_tui.engine.errors import ActorNameError, TrainsyncError
from trainsync_tui.engine.paths import actor_name_problem, normalise
from trainsync_tui.engine.remote import lists_flat_only, mark_flat_only
from trainsync_tui.engine.s3client import classify

if TYPE_CHECKING:
    from trainsync_tui.engine.config import Settings
    from trainsync_tui.engine.layout import ActorLayout


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


def spelt_in_s3(client: Any, settings: Settings, layout: ActorLayout) -> ActorLayout:
    """`layout` with the prefix spelling S3 holds for its actor (the NFC one when new)."""
    nfd = unicodedata.normalize("NFD", layout.name)
    if nfd == layout.name:
        return layout
    bucket = settings.require_bucket()
    try:
        nfc_prefix = settings.prefix_for(layout.name)
        prefix = s3_prefix(client, bucket, nfc_prefix, settings.prefix_for(nfd))
    except TrainsyncError:
        raise
    except Exception as exc:
        raise classify(exc, settings) from None
    return layout if prefix == layout.prefix else dataclasses.replace(layout, prefix=prefix)


def s3_prefix(client: Any, bucket: str, nfc_prefix: str, nfd_prefix: str) -> str:
    """The prefix S3 holds for an actor whose prefix is `nfc_prefix` in NFC (`nfd_prefix` in
    NFD), or `nfc_prefix` when S3 holds none. One listing, of the folders that start like it."""
    if nfc_prefix == nfd_prefix:
        return nfc_prefix
    same = next(i for i, (a, b) in enumerate(zip(nfc_prefix, nfd_prefix, strict=False)) if a != b)
    # Every spelling matches up to the first character that has other forms; the folder
    # holding that character ends at the next "/".
    end = nfc_prefix.index("/", same) + 1
    folder, rest = nfc_prefix[:end], nfc_prefix[end:]
    found: list[str] = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=nfc_prefix[:same], Delimiter="/"):
        for sub in page.get("CommonPrefixes", ()):
            if normalise(sub["Prefix"]) == folder:
                found.append(sub["Prefix"])
    if len(found) > 1:
        raise ActorNameError(clash_line(f"s3://{bucket}/: prefixes", sorted(found)))
    return found[0] + rest if found else nfc_prefix


def list_actor_names(client: Any, bucket: str, actors_prefix: str) -> list[str]:
    """Actor folder names directly below the prefix root (for --all and the app).

    One delimiter listing, checked against one flat page as remote.py checks a folder
    walk: a server that leaves folders out (s3rver drops a folder holding only folders, which
    is every actor's) would hide S3-only actors, so its names come from a flat walk."""
    paginator = client.get_paginator("list_objects_v2")
    names: set[str] = set()
    if not lists_flat_only(client, bucket):
        for page in paginator.paginate(Bucket=bucket, Prefix=actors_prefix, Delimiter="/"):
            for sub in page.get("CommonPrefixes", []):
                name = sub["Prefix"][len(actors_prefix) :].rstrip("/")
                if name:
                    names.add(name)
        probe = client.list_objects_v2(Bucket=bucket, Prefix=actors_prefix)
        if _actor_names(probe, actors_prefix) <= names:
            return sorted(names)
        mark_flat_only(client, bucket)
    for page in paginator.paginate(Bucket=bucket, Prefix=actors_prefix):
        names |= _actor_names(page, actors_prefix)
    return sorted(names)


def _actor_names(page: dict[str, Any], actors_prefix: str) -> set[str]:
    """The actor folders a flat listing page's keys sit in."""
    found = set()
    for item in page.get("Contents", ()):
        name, slash, _ = item["Key"][len(actors_prefix) :].partition("/")
        if name and slash:
            found.add(name)
    return found
