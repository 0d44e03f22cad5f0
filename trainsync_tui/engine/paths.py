"""Rules for the names trainsync accepts: manifest paths, S3 keys, actor names, temp files."""

from __future__ import annotations

import re
import unicodedata

# Every temp file trainsync makes starts with this (s3transfer's own "<temp>.<8 hex>" too,
# as it appends to our temp name); scans never adopt one. Other tools' look-alike names
# ("model.step.00001000") are data and are synced: ignoring them would lose files silently.
TEMP_PREFIX = ".trainsync-tmp-"
_ACTOR_ID = re.compile(r"^([0-9]+)_")
_MAX_SEGMENT_BYTES = 255
# One regex scan, not a Python loop over characters: every local path and key passes here.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_temp_name(name: str) -> bool:
    """True for a file name that a transfer tool writes before renaming into place."""
    return name.startswith(TEMP_PREFIX)


def relative_path_problem(path: str) -> str | None:
    """Why `path` cannot be a manifest path or key suffix, or None when it is fine."""
    if not path:
        return "empty path"
    if "\\" in path:
        return "contains a backslash"
    if path.startswith("/"):
        return "is absolute"
    if _CONTROL.search(path):
        return "contains a control character"
    for segment in path.split("/"):
        if segment == "":
            return "has an empty path segment"
        if segment in (".", ".."):
            return f"has a '{segment}' segment"
        if len(segment.encode("utf-8", "surrogateescape")) > _MAX_SEGMENT_BYTES:
            return "has a name longer than 255 bytes"
    return None


def normalise(path: str) -> str:
    """The NFC form every manifest path and plan key uses."""
    return unicodedata.normalize("NFC", path)


def actor_name_problem(name: str) -> str | None:
    """Why `name` is not a plain actor folder name, or None."""
    if not name:
        return "is empty"
    if "/" in name or "\\" in name or "\0" in name:
        return "contains a path separator or NUL"
    if name in (".", "..") or name.startswith("."):
        return "must not start with '.'"
    if _CONTROL.search(name):
        return "contains a control character"
    if len(name.encode("utf-8", "surrogateescape")) > _MAX_SEGMENT_BYTES:
        return "is longer than 255 bytes"
    return None


def actor_id_of(name: str) -> str | None:
    """The digits before the first '_' of an actor name ("0042_european_30_male" → "0042")."""
    match = _ACTOR_ID.match(name)
    return match.group(1) if match else None
