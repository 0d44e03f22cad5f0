"""Manifests with duplicate keys or absurd nesting are refused untouched; rewrites keep the mode."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import World, md5
from tests.engine.clitools import ACTOR, sync_json, sync_refused_manifest

MD5 = md5(b"a")
ENTRY = f'{{"md5": "{MD5}", "size": 1, "updated_at": "2026-01-01T00:00:00Z"}}'


def doc(files: str, extra: str = "") -> str:
    """A manifest's text with `files` as written and `extra` fields after it."""
    return f'{{"version": 1, "actor_id": "0042", "actor_name": "{ACTOR}", "files": {files}{extra}}}'


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (doc("{}", ', "version": 1'), ("'version' twice",)),
        (doc(f'{{"a.bin": {ENTRY}, "a.bin": {ENTRY}}}'), ("'a.bin' twice",)),
        (doc(f'{{"a.bin": {{"md5": "{MD5}", "size": 1, "size": 2}}}}'), ("'size' twice",)),
        (doc("{}", ', "x": ' + "[" * 100_000 + "]" * 100_000), ("nested",)),
        (doc("{}", ', "x": ' + "[" * 150 + "]" * 150), ("'x'", "nested")),
        (
            doc(f'{{"a.bin": {{"md5": "{MD5}", "size": 1, "y": {"[" * 150 + "]" * 150}}}}}'),
            ("'a.bin'", "'y'", "nested"),
        ),
    ],
    ids=[
        "duplicate top-level key",
        "duplicate path in files",
        "duplicate key in an entry",
        "nested beyond the parser",
        "extra field nested too deep to write back",
        "entry field nested too deep to write back",
    ],
)
def test_ambiguous_or_absurd_manifest_is_one_clear_error_and_nothing_syncs(
    world: World, capsys, content: str, words: tuple[str, ...]
) -> None:
    error = sync_refused_manifest(world, capsys, content.encode())

    manifest = world.actor_dir(ACTOR) / "manifest.json"
    assert str(manifest) in error and "\n" not in error and "S3 failed" not in error, error
    for word in words:
        assert word in error, error


def test_a_manifest_written_in_another_key_order_is_kept_as_it_was(world: World, capsys) -> None:
    manifest = world.actor_dir(ACTOR) / "manifest.json"
    entry = {"size": 1, "md5": md5(b"a"), "note": "mine"}
    world.put_local(ACTOR, "a.bin", b"a")
    world.put_local(ACTOR, "new.bin", b"new")
    world.put_s3(ACTOR, "a.bin", b"a")
    manifest.write_text(json.dumps({"version": 1, "files": {"a.bin": entry}}))

    code, report = sync_json(world, capsys)

    assert code == 0, report
    assert world.manifest(ACTOR)["files"]["a.bin"] == entry
    assert world.manifest_md5s(ACTOR)["new.bin"] == md5(b"new")


@pytest.fixture
def umask_002() -> Iterator[None]:
    old = os.umask(0o002)
    yield
    os.umask(old)


def mode(path: os.PathLike[str]) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_manifest_gets_0666_less_the_umask(world: World, capsys, umask_002: None) -> None:
    world.put_local(ACTOR, "a.bin", b"a")

    code, report = sync_json(world, capsys)

    assert code == 0, report
    assert mode(world.actor_dir(ACTOR) / "manifest.json") == 0o664


@pytest.mark.parametrize("old_mode", [0o644, 0o640, 0o444])
def test_a_rewritten_manifest_and_its_backup_keep_the_old_mode(
    world: World, capsys, umask_002: None, old_mode: int
) -> None:
    world.write_manifest(ACTOR, {"a.bin": b"a"})
    manifest = world.actor_dir(ACTOR) / "manifest.json"
    os.chmod(manifest, old_mode)
    world.put_local(ACTOR, "a.bin", b"a")
    world.put_local(ACTOR, "new.bin", b"new")

    code, report = sync_json(world, capsys)

    assert code == 0, report
    assert "new.bin" in world.manifest_md5s(ACTOR)
    assert mode(manifest) == old_mode
    assert mode(manifest.with_name("manifest.json.bak")) == old_mode


def test_an_unverified_md5_says_so_until_a_verified_one_replaces_it(tmp_path: Path) -> None:
    from trainsync_tui.engine.local.manifest import ManifestChanges, load_manifest, write_manifest
    from trainsync_tui.engine.scanned import ManifestEntry

    path = tmp_path / "manifest.json"
    md5 = "0" * 32
    for unverified in (True, False):
        changes = ManifestChanges()
        changes.record("odd.bin", ManifestEntry(md5, 4, "", unverified))
        write_manifest(path, "0042", "0042_x", changes, "2026-12-06T00:00:00Z")
        entry = json.loads(path.read_text())["files"]["odd.bin"]
        assert ("md5_source" in entry) is unverified
        assert load_manifest(path, "0042", "0042_x").entries["odd.bin"].unverified is unverified
