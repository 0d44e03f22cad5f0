from __future__ import annotations

import json

from tests.conftest import World, md5
from trainsync_tui.cli import main

ACTOR = "0042_european_30_male"


def test_seed_command_line_syncs_every_basic_row(world: World, capsys) -> None:
    world.put_local(ACTOR, "images/local_only.png", b"L" * 100)
    world.put_s3(ACTOR, "images/s3_only.png", b"R" * 200)
    world.put_local(ACTOR, "both.txt", b"same")
    world.put_s3(ACTOR, "both.txt", b"same")
    world.write_manifest(ACTOR, {"gone.txt": b"nothing anywhere"})

    code = main(["sync", "0042", ACTOR, "--json", *world.cli_flags()])
    report = json.loads(capsys.readouterr().out)

    assert code == 0, report
    assert report["uploaded"] == 1
    assert report["downloaded"] == 1
    assert report["added_to_manifest"] == 3
    assert report["removed_from_manifest"] == 1
    assert report["errors"] == []
    assert world.read_local(ACTOR, "images/s3_only.png") == b"R" * 200
    assert world.read_s3(ACTOR, "images/local_only.png") == b"L" * 100
    assert world.manifest_md5s(ACTOR) == {
        "both.txt": md5(b"same"),
        "images/local_only.png": md5(b"L" * 100),
        "images/s3_only.png": md5(b"R" * 200),
    }

    again = main(["sync", "0042", ACTOR, "--json", *world.cli_flags()])
    second = json.loads(capsys.readouterr().out)
    assert again == 0
    assert (
        sum(
            second[k]
            for k in (
                "uploaded",
                "downloaded",
                "added_to_manifest",
                "updated_in_manifest",
                "removed_from_manifest",
            )
        )
        == 0
    )
