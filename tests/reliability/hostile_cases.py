"""Hostile and bad inputs, one function each: put the hostile thing in place, say what to expect.

Every case runs in a world that also holds innocent work (a file to upload, one to download,
one already in sync); hostile.py runs the sync and checks the common promises.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import World
from tests.reliability.rig import ACTOR, PART, blob

PREFIX = f"actors/{ACTOR}/training_data/"


@dataclass
class Case:
    """What a hostile case expects of the sync that meets it."""

    hint: str | tuple[str, ...]  # substrings of one error: the path and the cause
    code: int = 1
    innocent_synced: bool = True  # the rest of the actor syncs as usual
    cli: list[str] | None = None  # run the CLI with these arguments instead of the engine
    unprivileged: bool = False  # run without root's powers (root reads everything)
    fsize: int | None = None  # RLIMIT_FSIZE for the run: a full disk
    during: Callable[[str], None] | None = None  # called as each file starts transferring
    may_be_absent_after: set[str] = field(default_factory=set)  # S3 keys it may remove
    cleanup: Callable[[], None] | None = None
    skip: str = ""  # why this case cannot run here


Builder = Callable[[World, Path], Case]
CASES: dict[str, tuple[str, Builder]] = {}


def case(group: str) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        CASES[build.__name__] = (group, build)
        return build

    return register


def _key_case(suffix: str, hint: str) -> Builder:
    def build(world: World, base: Path) -> Case:
        world.put_s3(ACTOR, "", b"hostile", key=PREFIX + suffix)
        return Case(hint=hint)

    return build


for _name, _suffix, _hint in [
    ("key_dotdot", "../escape.bin", "has a '..' segment"),
    ("key_deep_dotdot", "a/../../../escape.bin", "has a '..' segment"),
    ("key_absolute", "/etc/escape.bin", "is absolute"),
    ("key_backslash", "..\\..\\escape.bin", "contains a backslash"),
    ("key_empty_segment", "a//escape.bin", "has an empty path segment"),
    ("key_dot_segment", "./escape.bin", "has a '.' segment"),
    ("key_control_char", "bell\x07.bin", "contains a control character"),
    ("key_delete_char", "del\x7f.bin", "contains a control character"),
    ("key_long_segment", "l" * 300 + ".bin", "longer than 255 bytes"),
]:
    CASES[_name] = ("S3 key", _key_case(_suffix, _hint))


@case("S3 key")
def key_nfc_nfd_clash(world: World, base: Path) -> Case:
    for form in ("NFC", "NFD"):
        world.put_s3(ACTOR, unicodedata.normalize(form, "café.bin"), form.encode())
    return Case(hint="clash after Unicode normalisation")


@case("S3 key")
def key_case_clash(world: World, base: Path) -> Case:
    world.put_s3(ACTOR, "Photo.bin", b"upper")
    world.put_s3(ACTOR, "photo.bin", b"lower")
    return Case(hint="clash when case is ignored")


@case("S3 key")
def key_case_clash_with_local(world: World, base: Path) -> Case:
    world.put_s3(ACTOR, "Data.bin", b"in s3")
    world.put_local(ACTOR, "data.bin", b"on disk")
    return Case(hint="clash when case is ignored")


@case("local name")
def local_nfc_nfd_clash(world: World, base: Path) -> Case:
    for form in ("NFC", "NFD"):
        world.put_local(ACTOR, unicodedata.normalize(form, "naïve.bin"), form.encode())
    return Case(hint="clash after Unicode normalisation")


@case("local name")
def local_control_char_name(world: World, base: Path) -> Case:
    world.put_local(ACTOR, "tab\there.bin", b"tab")
    return Case(hint="contains a control character")


@case("local name")
def local_not_utf8_name(world: World, base: Path) -> Case:
    top = world.actor_dir(ACTOR) / "training_data"
    with open(os.path.join(os.fsencode(top), b"latin1-\xe9.bin"), "wb") as handle:
        handle.write(b"latin-1 name")
    return Case(hint="not valid UTF-8")


@case("local name")
def local_fifo(world: World, base: Path) -> Case:
    os.mkfifo(world.local_path(ACTOR, "pipe.bin"))
    # Not an error: skipped with a note. The hint is the good upload, and the sync must
    # not hang opening the pipe.
    return Case(hint="", code=0)


@case("symlink")
def symlink_file_outside(world: World, base: Path) -> Case:
    secret = base / "secret.txt"
    secret.write_bytes(b"never upload me")
    (world.actor_dir(ACTOR) / "training_data" / "link.txt").symlink_to(secret)
    return Case(hint="link.txt: symbolic link pointing outside")


@case("symlink")
def symlink_folder_outside(world: World, base: Path) -> Case:
    outside = base / "elsewhere"
    outside.mkdir(exist_ok=True)
    (outside / "x.bin").write_bytes(b"outside")
    (world.actor_dir(ACTOR) / "training_data" / "linkdir").symlink_to(outside)
    return Case(hint="linkdir: symbolic link pointing outside")


@case("symlink")
def symlink_folder_download_target(world: World, base: Path) -> Case:
    outside = base / "landing"
    outside.mkdir(exist_ok=True)
    (world.actor_dir(ACTOR) / "training_data" / "sub").symlink_to(outside)
    world.put_s3(ACTOR, "sub/evil.bin", b"through the link")
    return Case(hint="sub")


@case("unreadable")
def unreadable_file(world: World, base: Path) -> Case:
    path = world.put_local(ACTOR, "locked.bin", b"private")
    path.chmod(0)
    # The scan or, for a new small file, its upload finds it unreadable.
    return Case(hint="locked.bin: cannot be read (Permission denied)", unprivileged=True)


@case("unreadable")
def unreadable_folder(world: World, base: Path) -> Case:
    world.put_local(ACTOR, "vault/a.bin", b"private")
    (world.actor_dir(ACTOR) / "training_data" / "vault").chmod(0)
    return Case(hint="vault/: folder cannot be read", unprivileged=True)


def _manifest_case(content: bytes, hint: str) -> Builder:
    def build(world: World, base: Path) -> Case:
        (world.actor_dir(ACTOR) / "manifest.json").write_bytes(content)
        return Case(hint=hint, innocent_synced=False)

    return build


def _manifest_listing(path: str) -> bytes:
    entry = {"md5": "0" * 32, "size": 1}
    return json.dumps({"version": 1, "files": {path: entry}}).encode()


for _name, _content, _hint in [
    ("manifest_not_json", b'{"version": 1, "files": {', "is not valid JSON"),
    ("manifest_binary", b"\x00\xff\xfe garbage", "is not UTF-8 text"),
    ("manifest_other_version", json.dumps({"version": 2, "files": {}}).encode(), "version 2"),
    ("manifest_files_list", json.dumps({"version": 1, "files": []}).encode(), "no 'files'"),
    (
        "manifest_other_actor",
        json.dumps({"version": 1, "actor_name": "0001_other", "files": {}}).encode(),
        "belongs to actor",
    ),
    ("manifest_lists_dotdot", _manifest_listing("../../etc/passwd"), "'..' segment"),
    ("manifest_lists_absolute", _manifest_listing("/etc/passwd"), "is absolute"),
    ("manifest_lists_backslash", _manifest_listing("a\\b"), "backslash"),
    ("manifest_lists_control", _manifest_listing("a\x1bb"), "control character"),
]:
    CASES[_name] = ("manifest", _manifest_case(_content, _hint))


@case("manifest")
def manifest_is_a_folder(world: World, base: Path) -> Case:
    manifest = world.actor_dir(ACTOR) / "manifest.json"
    manifest.unlink()
    manifest.mkdir()
    return Case(hint="manifest.json", innocent_synced=False)


def _actor_arg_case(name: str, hint: str) -> Builder:
    def build(world: World, base: Path) -> Case:
        return Case(hint=hint, code=2, innocent_synced=False, cli=["sync", name])

    return build


for _name, _arg, _hint in [
    ("actor_dotdot", "../../evil", "path separator"),
    ("actor_slash", "0042_a/b", "path separator"),
    ("actor_backslash", "0042_a\\b", "path separator"),
    ("actor_absolute", "/tmp/evil", "path separator"),
    ("actor_dot", "..", "must not start with '.'"),
    ("actor_control", "0042_\x1b[31mred", "control character"),
]:
    CASES[_name] = ("actor name", _actor_arg_case(_arg, _hint))


@case("actor name")
def actor_prefixes_in_s3(world: World, base: Path) -> Case:
    for name in ("..", ".hidden", "a\\b", "x\x01y", "."):
        world.put_s3(ACTOR, "", b"who am i", key=f"actors/{name}/training_data/f.bin")
    return Case(hint="", code=0, cli=["sync", "--all"])


@case("full disk")
def full_disk_during_download(world: World, base: Path) -> Case:
    world.put_s3(ACTOR, "huge.bin", blob(random.Random(1), PART + 3 * 1024 * 1024))
    world.put_s3(ACTOR, "large.bin", b"L" * (3 * 1024 * 1024))
    return Case(hint="huge.bin: cannot write (File too large)", fsize=2 * 1024 * 1024)


@case("full disk")
def full_small_filesystem_during_download(world: World, base: Path) -> Case:
    """A 2 MiB tmpfs as a folder of training_data/: downloads there stage beside their target
    (rename must stay on one filesystem), so the temp file itself fills the disk."""
    folder = world.actor_dir(ACTOR) / "training_data" / "small_disk"
    folder.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        return Case(hint="", skip="cannot mount a small tmpfs here (needs root and CAP_SYS_ADMIN)")
    world.put_local(ACTOR, "small_disk/already_there.bin", b"keep me")
    world.put_s3(ACTOR, "small_disk/huge.bin", blob(random.Random(2), PART + 1024 * 1024))
    world.put_s3(ACTOR, "small_disk/mid.bin", b"m" * (3 * 1024 * 1024))
    world.put_s3(ACTOR, "small_disk/fits.bin", b"fits")

    def unmount() -> None:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)

    return Case(hint=("small_disk/", "No space left on device"), cleanup=unmount)


@case("changed during sync")
def object_replaced_before_download(world: World, base: Path) -> Case:
    world.put_s3(ACTOR, "moving.bin", b"as listed")

    def during(path: str) -> None:
        if path == "moving.bin":
            world.put_s3(ACTOR, "moving.bin", b"replaced after the listing")

    return Case(hint="moving.bin: changed in S3 since the audit", during=during)


@case("changed during sync")
def object_deleted_before_download(world: World, base: Path) -> Case:
    world.put_s3(ACTOR, "vanishing.bin", b"as listed")

    def during(path: str) -> None:
        if path == "vanishing.bin":
            world.s3.delete_object(Bucket=world.bucket, Key=world.key(ACTOR, path))

    return Case(
        hint="vanishing.bin", during=during, may_be_absent_after={world.key(ACTOR, "vanishing.bin")}
    )


@case("changed during sync")
def multipart_object_replaced_before_download(world: World, base: Path) -> Case:
    rng = random.Random(3)
    world.put_s3(ACTOR, "big.bin", blob(rng, PART + 1024), multipart=True)

    def during(path: str) -> None:
        if path == "big.bin":
            world.put_s3(ACTOR, "big.bin", blob(rng, PART + 2048), multipart=True)

    return Case(hint="big.bin: changed in S3 since the audit", during=during)
