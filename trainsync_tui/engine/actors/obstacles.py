"""Something local in the way of a download: a FIFO, a device, a link, or a file where the
S3 key needs a folder. The scan records them, the plan reports such a download as a problem
(so a dry run says what the sync will do), and the executor refuses the same way when one
appears after the audit; the words are here, once, for both."""

from __future__ import annotations

import stat
from collections.abc import Mapping

FOLDER_LINK = "a symbolic link to a folder"
OUTSIDE_LINK = "a symbolic link leading outside training_data/"
_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFLNK: "a symbolic link",
}


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words: 'a FIFO (named pipe)', 'a character device'…"""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def taken_by(kind: str) -> str:
    """The path itself is `kind` locally."""
    if kind == FOLDER_LINK:
        return (
            "is a symbolic link to a folder locally, so the S3 object is not downloaded over "
            "it; remove or rename the link to get the S3 file"
        )
    return (
        f"is {kind} locally, so the S3 object is not downloaded over it; remove or rename it "
        "to get the S3 file"
    )


def folder_is_link(shown: str, *, outside: bool) -> str:
    """A folder on the way (`shown`, no trailing slash) is a symbolic link."""
    if outside:
        return f"its folder {shown}/ is a symbolic link leading outside training_data/; refused"
    return (
        f"its folder {shown}/ is a symbolic link locally, so it is not downloaded through it; "
        "replace the link with a real folder, or move the S3 object to the folder the link "
        "points to"
    )


def folder_is_file(shown: str, kind: str) -> str:
    """A folder on the way (`shown`) is a file (or `kind`) locally."""
    return (
        f"{shown} is {kind} locally, so nothing can be downloaded under it; rename the local "
        "file or the S3 object"
    )


def in_the_way(path: str, files: Mapping[str, object], others: Mapping[str, str]) -> str | None:
    """Why a new file at `path` cannot be written, from the scan: `files` are the regular
    files found, `others` the rest (path → kind). None when nothing stands in its way."""
    kind = others.get(path)
    if kind is not None:
        return taken_by(kind)
    parts = path.split("/")
    for n in range(1, len(parts)):
        shown = "/".join(parts[:n])
        kind = others.get(shown)
        if kind in (FOLDER_LINK, OUTSIDE_LINK):
            return folder_is_link(shown, outside=kind == OUTSIDE_LINK)
        if kind is not None:
            return folder_is_file(shown, kind)
        if shown in files:
            return folder_is_file(shown, "a file")
    return None
