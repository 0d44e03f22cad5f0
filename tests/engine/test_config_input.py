"""AWS CLI sizes are read as the AWS CLI reads them; a bad size or bucket is one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR, sync_json
from tests.test_cli_config import assert_config_error, write
from trainsync_tui.engine.config import load_settings

MiB = 1024 * 1024


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"8MB"', 8 * MiB),  # the AWS CLI reads MB as MiB
        ('"64MiB"', 64 * MiB),
        ('"8 MB"', 8 * MiB),
        ('"16mib"', 16 * MiB),
        ('"1GB"', 1024 * MiB),
        ('"9000000"', 9_000_000),
        ("9000000", 9_000_000),
    ],
)
def test_sizes_in_a_config_file_are_read_as_the_aws_cli_reads_them(
    tmp_path: Path, text: str, expected: int
) -> None:
    write(
        tmp_path / "trainsync.toml", f"multipart_threshold = {text}\nmultipart_chunksize = {text}\n"
    )
    settings = load_settings({"root": str(tmp_path)}, environ={})
    assert settings.multipart_threshold == expected
    assert settings.multipart_chunksize == expected


def test_sizes_in_variables_and_flags_are_read_the_same_way(tmp_path: Path) -> None:
    environ = {"TRAINSYNC_MULTIPART_THRESHOLD": "5MB", "TRAINSYNC_MULTIPART_CHUNKSIZE": "6 MiB"}
    settings = load_settings({"root": str(tmp_path)}, environ=environ)
    assert (settings.multipart_threshold, settings.multipart_chunksize) == (5 * MiB, 6 * MiB)
    flags = {"root": str(tmp_path), "multipart_threshold": "32MiB", "multipart_chunksize": "16MB"}
    settings = load_settings(flags, environ=environ)
    assert (settings.multipart_threshold, settings.multipart_chunksize) == (32 * MiB, 16 * MiB)


def test_a_size_flag_reaches_the_upload(world: World, capsys) -> None:
    world.put_local(ACTOR, "big.bin", b"x" * (6 * MiB))
    sizes = ["--multipart-threshold", "5MB", "--multipart-chunksize", "5 MiB"]
    code, report = sync_json(world, capsys, *sizes)
    assert code == 0, report
    etag = world.s3.head_object(Bucket=world.bucket, Key=world.key(ACTOR, "big.bin"))["ETag"]
    assert etag.strip('"').endswith("-2")  # 6 MiB in 5 MiB parts


@pytest.mark.parametrize("bad", ["8.5MB", "8B", "MB", "0", "-8MB", "lots", "8 M"])
def test_a_bad_size_names_the_setting_and_the_accepted_forms(world: World, capsys, bad) -> None:
    words = ("--multipart-threshold", repr(bad), "MiB", "8MB")
    args = ["sync", ACTOR, f"--multipart-threshold={bad}", *world.cli_flags()]
    assert_config_error(capsys, args, *words)
    write(world.root / "trainsync.toml", f'multipart_chunksize = "{bad}"\n')
    args = ["sync", ACTOR, *world.cli_flags()]
    assert_config_error(capsys, args, "trainsync.toml", "multipart_chunksize", "KiB")


@pytest.mark.parametrize(
    ("bucket", "words"),
    [
        ("bad bucket!", ("'bad bucket!'", "3-63 lowercase letters")),
        ("ab", ("'ab'", "3-63")),
        ("x" * 256, ("3-63",)),
        ("s3://my-bucket/data", ("without s3://",)),
        ("arn:aws:s3:::nothing", ("access point ARN",)),
    ],
)
def test_a_bad_bucket_name_is_refused_at_once_with_the_rule(
    world: World, capsys, monkeypatch: pytest.MonkeyPatch, bucket: str, words: tuple[str, ...]
) -> None:
    flags = ["--root", str(world.root), "--endpoint-url", world.url]
    assert_config_error(capsys, ["sync", ACTOR, *flags, "--bucket", bucket], *words)
    assert_config_error(capsys, ["audit", "--all", "--json", *flags, "--bucket", bucket], *words)
    monkeypatch.setenv("TRAINSYNC_BUCKET", bucket)
    assert_config_error(capsys, ["sync", ACTOR, *flags], *words)


@pytest.mark.parametrize("bucket", ["my.data-1", "Legacy_Bucket", "abc"])
def test_names_older_aws_buckets_and_ceph_use_are_accepted(tmp_path: Path, bucket: str) -> None:
    assert load_settings({"root": str(tmp_path), "bucket": bucket}, environ={}).bucket == bucket
