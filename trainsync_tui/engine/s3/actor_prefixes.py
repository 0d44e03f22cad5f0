"""Which prefix in S3 spells an actor, and which actor prefixes a bucket holds.

An actor's S3 prefix keeps the spelling S3 already holds (NFC for a new one); the names
themselves, and the rule that two spellings of one actor are refused, are actors/names.py's.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from typing import TYPE_CHECKING, Any

from trainsync_tui.engine.actors.names import clash_line
from trainsync_tui.engine.errors import ActorNameError, TrainsyncError
from trainsync_tui.engine.paths import normalise
from trainsync_tui.engine.s3.client import classify
from trainsync_tui.engine.s3.listing import lists_flat_only, mark_flat_only

if TYPE_CHECKING:
    from trainsync_tui.engine.actors.layout import ActorLayout
    from trainsync_tui.engine.config import Settings


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

    One delimiter listing, checked against one flat page as listing.py checks a folder
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
