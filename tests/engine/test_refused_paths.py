"""Hostile S3 keys, outward symlinks, normalisation clashes and bad manifests are refused."""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import World, md5
from tests.engine.clitools import (
    ACTOR,
    counts,
    sub_linked_outside,
    sync_json,
    sync_refused_manifest,
)

PREFIX = f"actors/{ACTOR}/training_data/"
HOSTILE = {
    "dotdot": PREFIX + "../escape.bin",
    "deep dotdot": PREFIX + "a/../../escape2.bin",
    "absolute": PREFIX + "/etc/escape3.bin",
    "backslash": PREFIX + "..\\escape4.bin",
    "empty segment": PREFIX + "a//escape5.bin",
    "dot segment": PREFIX + "./escape6.bin",
}


def test_hostile_keys_are_refused_per_path_while_the_rest_syncs(
    world: World, capsys, tmp_path: Path
) -> None:
    for key in HOSTILE.values():
        world.put_s3(ACTOR, "", b"evil", key=key)
    stored = set(world.s3_keys(PREFIX))
    assert stored == set(HOSTILE.values()), "the S3 server changed the hostile keys"
    world.put_s3(ACTOR, "good.bin", b"fine")

    code, report = sync_json(world, capsys)

    assert code == 1
    assert report["downloaded"] == 1 and report["added_to_manifest"] == 1
    assert world.read_local(ACTOR, "good.bin") == b"fine"
    assert len(report["errors"]) == len(HOSTILE), report["errors"]
    assert all("S3 key refused" in e for e in report["errors"])
    written = [p for p in tmp_path.rglob("escape*")]
    assert written == []
    assert world.manifest_md5s(ACTOR) == {"good.bin": md5(b"fine")}
    assert set(world.s3_keys(PREFIX)) == stored | {PREFIX + "good.bin"}


def test_symlink_pointing_outside_is_refused(world: World, capsys, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"do not upload")
    outside_dir = tmp_path / "outside"
    outside_dir.mkdir()
    (outside_dir / "x.bin").write_bytes(b"nope")
    world.put_local(ACTOR, "ok.bin", b"ok")
    top = world.actor_dir(ACTOR) / "training_data"
    (top / "link.txt").symlink_to(secret)
    (top / "linkdir").symlink_to(outside_dir)

    code, report = sync_json(world, capsys)

    assert code == 1
    assert report["uploaded"] == 1
    assert world.s3_paths(ACTOR) == ["ok.bin"]
    assert any(e.startswith("link.txt:") and "outside" in e for e in report["errors"])
    assert any(e.startswith("linkdir:") and "outside" in e for e in report["errors"])


def test_download_never_follows_a_symlinked_folder_outside(
    world: World, capsys, tmp_path: Path
) -> None:
    _, outside = sub_linked_outside(world, tmp_path)
    world.put_s3(ACTOR, "sub/x.bin", b"through the link")

    code, report = sync_json(world, capsys)

    assert code == 1
    assert list(outside.iterdir()) == []
    assert report["downloaded"] == 0


def test_names_that_clash_after_normalisation_are_refused(world: World, capsys) -> None:
    nfc = unicodedata.normalize("NFC", "café.txt")
    nfd = unicodedata.normalize("NFD", "café.txt")
    world.put_local(ACTOR, nfc, b"one")
    world.put_local(ACTOR, nfd, b"two")
    world.put_local(ACTOR, "plain.txt", b"plain")

    code, report = sync_json(world, capsys)

    assert code == 1
    assert report["uploaded"] == 1
    assert world.s3_paths(ACTOR) == ["plain.txt"]
    assert any("normalisation" in e for e in report["errors"])


def test_nfd_name_on_disk_is_recorded_in_nfc(world: World, capsys) -> None:
    nfd = unicodedata.normalize("NFD", "café.txt")
    world.put_local(ACTOR, nfd, b"accent")
    code, report = sync_json(world, capsys)
    assert code == 0, report
    nfc = unicodedata.normalize("NFC", "café.txt")
    assert world.manifest_md5s(ACTOR) == {nfc: md5(b"accent")}
    assert world.s3_paths(ACTOR) == [nfc]
    again, second = sync_json(world, capsys)
    assert again == 0 and sum(counts(second).values()) == 0


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        json.dumps({"version": 2, "files": {}}).encode(),
        json.dumps({"version": 1, "files": []}).encode(),
        json.dumps({"version": 1, "files": {"../x": {"md5": "a" * 32, "size": 1}}}).encode(),
        json.dumps({"version": 1, "files": {"x": {"md5": "nope", "size": 1}}}).encode(),
    ],
    ids=["invalid json", "wrong version", "files not an object", "dotdot path", "bad md5"],
)
def test_corrupt_manifest_is_an_error_and_left_untouched(
    world: World, capsys, content: bytes
) -> None:
    error = sync_refused_manifest(world, capsys, content)

    assert "manifest.json" in error


def test_unknown_manifest_fields_are_preserved_and_a_backup_kept(world: World, capsys) -> None:
    world.write_manifest(ACTOR, {"a.bin": b"a"}, owner="lab-7", notes={"k": [1, 2]})
    doc = world.manifest(ACTOR)
    doc["files"]["a.bin"]["label"] = "keep me"
    manifest = world.actor_dir(ACTOR) / "manifest.json"
    manifest.write_text(json.dumps(doc))
    original = manifest.read_bytes()
    world.put_local(ACTOR, "a.bin", b"a")
    world.put_local(ACTOR, "new.bin", b"new")

    code, report = sync_json(world, capsys)

    assert code == 0, report
    after = world.manifest(ACTOR)
    assert after["owner"] == "lab-7" and after["notes"] == {"k": [1, 2]}
    assert after["files"]["a.bin"]["label"] == "keep me"
    assert set(after["files"]) == {"a.bin", "new.bin"}
    assert manifest.with_name("manifest.json.bak").read_bytes() == original
    assert not [p for p in os.listdir(manifest.parent) if p.endswith(".tmp")]


def test_a_folder_marker_at_the_actor_prefix_is_not_a_refused_key(world: World, capsys) -> None:
    # The S3 console's "Create folder" at the prefix made every sync exit 1, for ever.
    world.s3.put_object(Bucket=world.bucket, Key=PREFIX, Body=b"")
    world.put_s3(ACTOR, "good.bin", b"fine")

    code, report = sync_json(world, capsys)
    again, audit = sync_json(world, capsys, "--dry-run")

    assert (code, report["errors"], report["downloaded"]) == (0, [], 1)
    assert (again, audit["errors"], sum(counts(audit).values())) == (0, [], 0)
    assert PREFIX in world.s3_keys(PREFIX)
