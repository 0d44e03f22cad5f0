"""A cancelled sync says what it kept for the next run to resume (issue 25 item 7): Ctrl-C on
the real CLI mid-download and mid-upload, then the report, `audit` and `history` name the
partial download and the multipart upload with their bytes, where they used to say "no
changes" and `bytes_downloaded: 0`."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import World
from tests.reliability.rig import ACTOR, cli_command, cli_env, one_json
from tests.test_cli_interrupt import wait_for
from trainsync_tui.cli import main

MiB = 1024 * 1024
SIZE = 40 * MiB
DATA = bytes(range(256)) * (SIZE // 256)


def partial_kept(world: World) -> int:
    """The bytes the sidecars of the actor's partial downloads say are written."""
    kept = 0
    for sidecar in (world.actor_dir(ACTOR) / ".trainsync" / "tmp" / "partial").glob("*.json"):
        try:
            kept += sum(end - start for start, end in json.loads(sidecar.read_text())["ranges"])
        except (OSError, ValueError, KeyError):
            continue  # being rewritten this instant
    return kept


def parts_in_s3(world: World) -> int:
    total = 0
    for upload in world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", []):
        parts = world.s3.list_parts(
            Bucket=world.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
        )
        total += sum(p["Size"] for p in parts.get("Parts", []))
    return total


def interrupt_when(command: list[str], env: dict[str, str], ready: object, what: str) -> str:
    """Run the CLI, press Ctrl-C once `ready()` holds, return its stdout (exit 130)."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(ready, process, what)  # type: ignore[arg-type]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    return out.decode()


def test_a_cancelled_download_reports_the_bytes_kept_and_audit_and_history_list_them(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_s3(ACTOR, "ckpt/model.bin", DATA, multipart=True)
    command = cli_command(world, "--json", "--bwlimit", "8M")
    out = interrupt_when(
        command, cli_env(world, tmp_path), lambda: partial_kept(world) >= 10 * MiB, "10 MiB kept"
    )
    report = one_json(out)
    kept = report["kept_for_resume"]
    assert report["cancelled"] is True and report["bytes_downloaded"] == 0
    assert [d["path"] for d in kept["downloads"]] == ["ckpt/model.bin"]
    assert kept["bytes"] == partial_kept(world) >= 10 * MiB
    assert kept["downloads"][0]["size"] == SIZE and kept["uploads"] == []

    flags = world.cli_flags()
    assert main(["audit", ACTOR, "--json", *flags]) == 0
    audited = json.loads(capsys.readouterr().out)["kept_for_resume"]
    assert audited == kept
    assert main(["audit", ACTOR, *flags]) == 0
    text = capsys.readouterr().out
    mib = kept["bytes"] / MiB
    assert f"{mib:.1f} MiB kept for resume (1 download):" in text, text
    assert f"download ckpt/model.bin: {mib:.1f} MiB of 40.0 MiB" in text, text

    assert main(["history", ACTOR, *flags]) == 0
    line = capsys.readouterr().out.strip()
    assert "CANCELLED: no changes; " in line and "MiB kept for resume (1 download)" in line, line
    assert main(["history", ACTOR, "--json", *flags]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["kept_for_resume"] == kept


def test_a_cancelled_upload_reports_its_parts_kept_in_words(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.put_local(ACTOR, "ckpt/model.bin", DATA)
    command = cli_command(world, "--no-progress", "--bwlimit", "8M")
    out = interrupt_when(
        command, cli_env(world, tmp_path), lambda: parts_in_s3(world) >= 10 * MiB, "2 parts sent"
    )
    first = out.splitlines()[0]
    assert first.startswith(f"{ACTOR}: cancelled before any change; "), out
    assert first.endswith("MiB kept for resume (1 upload)"), out

    flags = world.cli_flags()
    assert main(["audit", ACTOR, "--json", *flags]) == 0
    audited = json.loads(capsys.readouterr().out)["kept_for_resume"]
    # The audit asks S3 (ListParts): exactly the parts it holds.
    assert audited["uploads"] == [
        {"path": "ckpt/model.bin", "size": SIZE, "bytes_kept": parts_in_s3(world)}
    ]
    assert audited["downloads"] == []
