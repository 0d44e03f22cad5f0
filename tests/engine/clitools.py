"""Run the CLI in-process and read its one JSON object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import World
from trainsync_tui.cli import main

ACTOR = "0042_european_30_male"
SEED_KEYS = [
    "uploaded",
    "downloaded",
    "added_to_manifest",
    "updated_in_manifest",
    "removed_from_manifest",
    "deleted_local",
    "deleted_s3",
    "errors",
]


def sync_json(
    world: World, capsys: pytest.CaptureFixture[str], *args: str, actor: str = ACTOR
) -> tuple[int, dict[str, Any]]:
    """`trainsync sync <id> <actor> --json <args>`; asserts stdout is exactly one object."""
    actor_args = [actor.split("_")[0], actor] if actor else []
    code = main(["sync", *actor_args, "--json", *args, *world.cli_flags()])
    out = capsys.readouterr().out
    return code, one_object(out)


def one_object(out: str) -> dict[str, Any]:
    decoder = json.JSONDecoder()
    value, end = decoder.raw_decode(out.strip())
    assert out.strip()[end:] == "", f"more than one JSON value on stdout: {out!r}"
    assert isinstance(value, dict)
    return value


def counts(report: dict[str, Any]) -> dict[str, int]:
    return {k: report[k] for k in SEED_KEYS if k != "errors"}


def snapshot(world: World, actor: str = ACTOR) -> tuple[Any, ...]:
    """Everything a sync could change: local bytes, S3 objects, the manifest file."""
    top = world.actor_dir(actor)
    local = (
        {
            str(p.relative_to(top)): p.read_bytes()
            for p in sorted(top.rglob("*"))
            if p.is_file() and ".trainsync" not in p.parts
        }
        if top.exists()
        else {}
    )
    objects = {}
    for page in world.s3.get_paginator("list_objects_v2").paginate(Bucket=world.bucket):
        for o in page.get("Contents", []):
            objects[o["Key"]] = o["ETag"]
    return local, objects


def sync_refused_manifest(world: World, capsys: pytest.CaptureFixture[str], content: bytes) -> str:
    """Sync with `content` as the manifest, which must fail the run (exit 1) with its one
    error, returned, and leave everything as it was: the manifest's bytes, the local files
    and S3 (something to upload and to download waits on each side), and no backup."""
    world.put_local(ACTOR, "a.bin", b"a")
    world.put_local(ACTOR, "new.bin", b"new")
    world.put_s3(ACTOR, "b.bin", b"b")
    manifest = world.actor_dir(ACTOR) / "manifest.json"
    manifest.write_bytes(content)
    before = snapshot(world)

    code, report = sync_json(world, capsys)

    assert code == 1
    [error] = report["errors"]
    assert manifest.read_bytes() == content
    assert snapshot(world) == before
    assert not manifest.with_name("manifest.json.bak").exists()
    return error


def sub_linked_outside(world: World, tmp_path: Path) -> tuple[Path, Path]:
    """training_data/sub is a symlink to an empty folder outside; returns (top, outside)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    top = world.actor_dir(ACTOR) / "training_data"
    top.mkdir(parents=True)
    (top / "sub").symlink_to(outside)
    return top, outside
