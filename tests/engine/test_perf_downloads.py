"""Downloads with batched hash-cache rows and folder checks made once per folder."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import World
from tests.engine.clitools import ACTOR, sub_linked_outside, sync_json
from tests.engine.test_hash_cache import audit, files_hashed


def test_every_download_lands_in_the_cache_at_the_end_of_the_run(world: World, capsys) -> None:
    names = [f"f{n}/{m}.bin" for n in range(3) for m in range(4)]
    for name in names:
        world.put_s3(ACTOR, name, name.encode())

    code, report = sync_json(world, capsys)
    assert code == 0 and report["downloaded"] == len(names)

    assert files_hashed(world) == 0  # every MD5 from the cache
    assert audit(world, capsys)["actions"] == {}


def test_checked_folders_do_not_let_a_second_file_through_a_link(
    world: World, capsys, tmp_path: Path
) -> None:
    top, outside = sub_linked_outside(world, tmp_path)
    for name in ("sub/x.bin", "sub/y.bin", "ok/a.bin", "ok/b.bin"):
        world.put_s3(ACTOR, name, name.encode())

    code, report = sync_json(world, capsys)

    assert code == 1
    assert list(outside.iterdir()) == []
    assert report["downloaded"] == 2
    assert sorted(os.listdir(top / "ok")) == ["a.bin", "b.bin"]
    refused = [e for e in report["errors"] if e.startswith("sub/")]
    assert len(refused) == 2 and all("outside" in e for e in refused)
