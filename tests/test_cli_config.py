"""Configuration: precedence of flags, variables and files; config errors are one line, exit 2."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR, one_object
from tests.s3server import S3Server, free_port
from trainsync_tui.cli import main
from trainsync_tui.engine.config import load_settings


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_flags_beat_variables_beat_root_file_beat_user_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    user = write(
        tmp_path / "user" / "trainsync.toml",
        'bucket = "user"\nregion = "user-region"\nprofile = "user-profile"\nconcurrency = 3\n',
    )
    write(root / "trainsync.toml", 'bucket = "rootfile"\nregion = "root-region"\nconcurrency = 5\n')
    monkeypatch.setenv("TRAINSYNC_CONFIG", str(user))
    monkeypatch.setenv("TRAINSYNC_BUCKET", "env")
    monkeypatch.setenv("TRAINSYNC_CONCURRENCY", "7")

    settings = load_settings({"root": str(root), "concurrency": 9})

    assert settings.concurrency == 9  # flag
    assert settings.bucket == "env"  # variable over both files
    assert settings.region == "root-region"  # root file over user file
    assert settings.profile == "user-profile"  # user file when nothing else says
    monkeypatch.delenv("TRAINSYNC_BUCKET")
    assert load_settings({"root": str(root)}).bucket == "rootfile"
    assert load_settings({"root": str(root), "bucket": "flag"}).bucket == "flag"


def test_cli_reads_bucket_and_endpoint_from_root_file_and_variables(
    world: World, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(world.root / "trainsync.toml", f'bucket = "{world.bucket}"\n')
    monkeypatch.setenv("TRAINSYNC_ENDPOINT_URL", world.url)
    monkeypatch.setenv("TRAINSYNC_ROOT", str(world.root))
    world.put_local(ACTOR, "a.bin", b"a")
    code = main(["sync", ACTOR, "--json"])
    assert code == 0 and one_object(capsys.readouterr().out)["uploaded"] == 1
    assert world.s3_paths(ACTOR) == ["a.bin"]


def assert_config_error(capsys, args: list[str], *words: str) -> None:
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trainsync: "), err
    for word in words:
        assert word in lines[0]
    if "--json" in args:
        assert "error" in one_object(out)
    else:
        assert out == ""


def test_no_bucket_is_a_config_error(world: World, capsys) -> None:
    assert_config_error(capsys, ["sync", ACTOR, "--root", str(world.root)], "no S3 bucket")
    assert_config_error(capsys, ["audit", "--all", "--json", "--root", str(world.root)], "bucket")


def test_missing_bucket_is_a_config_error(world: World, capsys) -> None:
    flags = ["--root", str(world.root), "--endpoint-url", world.url, "--bucket", "no-such-bkt"]
    assert_config_error(capsys, ["sync", ACTOR, *flags], "no-such-bkt", "does not exist")
    assert_config_error(capsys, ["sync", ACTOR, "--dry-run", "--json", *flags], "does not exist")
    assert_config_error(capsys, ["sync", "--all", *flags], "does not exist")


def test_unreachable_endpoint_is_a_config_error(world: World, capsys) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    flags = ["--root", str(world.root), "--bucket", world.bucket, "--endpoint-url", closed]
    assert_config_error(capsys, ["sync", "0042", ACTOR, *flags], "cannot reach", closed)


@pytest.fixture(scope="module")
def strict_s3() -> Iterator[S3Server]:
    """A second moto server that checks access keys (moto accepts any keys by default)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", "0")
        server = S3Server()
        server.start()
    yield server
    server.stop()


def test_bad_credentials_are_a_config_error(world: World, capsys, strict_s3: S3Server) -> None:
    flags = ["--root", str(world.root), "--bucket", world.bucket, "--endpoint-url", strict_s3.url]
    assert_config_error(capsys, ["sync", ACTOR, *flags], "refused the credentials")


def test_missing_credentials_are_a_config_error(
    world: World, capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert_config_error(capsys, ["sync", ACTOR, *world.cli_flags()], "no AWS credentials")


def test_unknown_profile_is_a_config_error(
    world: World, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert_config_error(
        capsys, ["sync", ACTOR, "--profile", "nobody", *world.cli_flags()], "nobody"
    )


@pytest.mark.parametrize(
    ("actor_args", "words"),
    [
        (["0043", ACTOR], ("does not match",)),
        (["../etc"], ("actor name",)),
        (["a/b"], ("path separator",)),
        ([".hidden"], ("'.'",)),
        (["1", "2", "3"], ("ACTOR_NAME",)),
        ([], ("ACTOR_NAME",)),
    ],
)
def test_bad_actor_arguments_are_usage_errors(world: World, capsys, actor_args, words) -> None:
    assert_config_error(capsys, ["sync", *actor_args, *world.cli_flags()], *words)


def test_bad_config_values_are_usage_errors(world: World, capsys) -> None:
    write(world.root / "trainsync.toml", "concurrency = 'many'\n")
    assert_config_error(capsys, ["sync", ACTOR, *world.cli_flags()], "concurrency")
    write(world.root / "trainsync.toml", "bucket = [\n")
    assert_config_error(capsys, ["sync", ACTOR, *world.cli_flags()], "cannot read config")
    write(world.root / "trainsync.toml", "")
    assert_config_error(
        capsys, ["sync", ACTOR, "--max-delete", "lots", *world.cli_flags()], "--max-delete"
    )
    assert_config_error(capsys, ["sync", ACTOR, "--root", str(world.root / "nope")], "root")


def test_debug_shows_the_traceback(world: World) -> None:
    with pytest.raises(Exception, match="no S3 bucket"):
        main(["sync", ACTOR, "--root", str(world.root), "--debug"])


def test_a_missing_bucket_stops_hashing_at_once(world: World, capsys) -> None:
    # 64 GiB of holes: hashing it takes minutes, so only a stopped scan returns quickly.
    big = world.put_local(ACTOR, "huge.bin", b"")
    with open(big, "r+b") as handle:
        handle.truncate(64 * 1024**3)
    flags = ["--root", str(world.root), "--endpoint-url", world.url, "--bucket", "no-such-bkt"]
    started = time.monotonic()
    assert_config_error(capsys, ["audit", ACTOR, *flags], "does not exist")
    assert time.monotonic() - started < 20
