"""A foreign multipart object (no MD5 in S3) that the sync downloads is checked by its
multipart ETag on transfer: the audit and a dry run say so, and do not call it unverified."""

from __future__ import annotations

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR, one_object, sync_json
from trainsync_tui.cli import main

MiB = 1024 * 1024
BIG = bytes(range(256)) * (11 * MiB // 256)


def audit_json(world: World, capsys: pytest.CaptureFixture[str]) -> dict:
    main(["audit", ACTOR, "--json", *world.cli_flags()])
    return one_object(capsys.readouterr().out)


def test_audit_and_dry_run_say_a_download_is_verified_by_its_multipart_etag(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_s3(ACTOR, "big.bin", BIG, multipart=True)
    audit = audit_json(world, capsys)
    assert audit["unverified"] == [] and audit["verified_on_transfer"] == ["big.bin"]

    code, dry = sync_json(world, capsys, "--dry-run")
    assert code == 0 and dry["unverified"] == [] and dry["verified_on_transfer"] == ["big.bin"]
    main(["sync", ACTOR, "--dry-run", *world.cli_flags()])
    text = capsys.readouterr().out
    assert "unverified" not in text
    assert "1 multipart file without an MD5 in S3: verified by multipart ETag on transfer" in text

    code, real = sync_json(world, capsys)
    assert code == 0 and real["downloaded"] == 1
    assert real["unverified"] == [] and real["verified_on_transfer"] == ["big.bin"]
    assert world.read_local(ACTOR, "big.bin") == BIG


def test_an_object_no_transfer_checks_stays_unverified(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_s3(ACTOR, "big.bin", BIG, multipart=True)
    world.put_local(ACTOR, "big.bin", BIG[:-1] + b"!")
    audit = audit_json(world, capsys)
    assert [c["path"] for c in audit["conflicts"]] == ["big.bin"]
    assert audit["unverified"] == ["big.bin"] and audit["verified_on_transfer"] == []
