"""W8: a download killed (kill -9) at 70 % of the biggest *large* file, then rerun: the bytes
the rerun fetches against the file's size (issue 17: at most 0.35 ×). W11: the same at full
speed, killed when 60 % has crossed the wire (issue 23: at most 0.5 ×)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from trainsync_tui.bench import datasets as ds
from trainsync_tui.bench.measure import Timing, clean_env, run
from trainsync_tui.bench.results import Measurement, target_line
from trainsync_tui.bench.tools import Target, Tool, trainsync_with
from trainsync_tui.bench.wire_meter import WireMeter
from trainsync_tui.bench.workloads import Context

CUT_AT = 0.7
MAX_SHARE = 0.35
WORKLOAD = "W8 download cut at 70 %, rerun"
# Issue 23: killed at full speed once 60 % has crossed the wire, the rerun moves at most
# half the file (and never more than all of it).
FULL_CUT_AT = 0.6
FULL_MAX_SHARE = 0.5
FULL_WORKLOAD = "W11 download cut at 60 % on the wire, full speed, rerun"


def _kept(partial: Path) -> int:
    """Bytes the sidecars of a killed download say are kept."""
    kept = 0
    for sidecar in partial.glob("*.json"):
        try:
            kept = max(kept, sum(b - a for a, b in json.loads(sidecar.read_text())["ranges"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return kept


def _cut(command: list[str], env: dict[str, str], partial: Path, size: int, timeout: float) -> int:
    """Run the download and kill -9 it once CUT_AT of the file is kept; the bytes kept."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    kept = 0
    try:
        while process.poll() is None and time.monotonic() < deadline:
            kept = _kept(partial)
            if kept >= CUT_AT * size:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.02)  # watching a subprocess's progress from outside
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    return kept


@dataclass(frozen=True)
class _Setup:
    """The biggest *large* file in a bucket of its own (written by boto3, 8 MiB parts) and
    an empty root to download it into."""

    spec: ds.FileSpec
    source: Path
    target: Target
    env: dict[str, str]
    partial: Path
    key: str


def _setup(ctx: Context, tool: Tool, dataset: ds.Dataset, source: Path, bucket: str) -> _Setup:
    """The object and the root of W8 and W11."""
    spec = max(dataset.files, key=lambda f: f.size)
    path = ds.training_dir(source, spec.actor) / spec.rel
    base = ctx.work / dataset.name / bucket
    ctx.server.create_bucket(bucket)
    target = Target(base / "down", bucket, spec.actor, ctx.server.url, base / "cache")
    (target.root / "data" / "actors").mkdir(parents=True)
    client: Any = ctx.server.client()
    key = target.prefix + spec.rel
    # boto3's 8 MiB parts, with the MD5 metadata trainsync's own uploads carry: nanio hides
    # the part size, so without it nothing could catch a bad kept byte and no download of
    # the object would resume (issue 22's rule).
    md5 = _md5(path)
    extra = {"Metadata": {"md5": md5, "md5chksum": base64.b64encode(bytes.fromhex(md5)).decode()}}
    client.upload_file(str(path), bucket, key, ExtraArgs=extra)
    env = clean_env({**ctx.server.client_env(), **tool.env(target)})
    partial = target.local.parent / ".trainsync" / "tmp" / "partial"
    return _Setup(spec, path, target, env, partial, key)


def _teardown(ctx: Context, setup: _Setup) -> None:
    ctx.server.drop_bucket(setup.target.bucket)
    shutil.rmtree(setup.target.root.parent, ignore_errors=True)


def _rerun(
    ctx: Context, tool: Tool, setup: _Setup, target: Target, label: str, kept: float, cut_at: float
) -> tuple[Timing, dict[str, int], dict[str, Any], str]:
    """Run the sync again at full speed and check it: its timing, requests, report, note."""
    mark = ctx.server.mark()
    log = ctx.logs / f"{label}-rerun.log"
    timing = run(tool.command(target), setup.env, log, ctx.timeout)
    requests = dict(sorted(ctx.server.requests_since(mark).items()))
    note, report = "", {}
    try:
        report = json.loads(timing.stdout)
    except ValueError:
        note = f"exit {timing.returncode}: no JSON report ({timing.stderr_tail[:200]})"
    got = setup.target.local / setup.spec.rel
    if not note and (report.get("errors") or timing.returncode != 0):
        note = f"exit {timing.returncode}: {str(report.get('errors'))[:200]}"
    elif not note and (not got.exists() or _md5(got) != _md5(setup.source)):
        note = "the downloaded file differs from the source"
    elif not note and kept < cut_at * setup.spec.size:
        note = f"the cut run ended before {cut_at:.0%} ({kept:.0f} bytes)"
    return timing, requests, report, note


def run_resume(
    ctx: Context, tool: Tool, dataset: ds.Dataset, source: Path
) -> tuple[Measurement, dict[str, Any]]:
    setup = _setup(ctx, tool, dataset, source, "trainsync-resume")
    spec = setup.spec
    # Slowed to about 4 s for the whole file, so the kill lands near 70 %; the rerun is not.
    slow = trainsync_with(tool, "--bwlimit", f"{max(1, spec.size // (4 * ds.MiB))}M")
    try:
        kept = _cut(slow.command(setup.target), setup.env, setup.partial, spec.size, ctx.timeout)
        timing, requests, report, note = _rerun(
            ctx, tool, setup, setup.target, f"{dataset.name}-W8", kept, CUT_AT
        )
    finally:
        _teardown(ctx, setup)
    fetched = int(report.get("bytes_downloaded", 0)) - int(report.get("bytes_resumed", 0))
    m = Measurement.one_file(
        timing, dataset.name, WORKLOAD, tool.name, spec.size, requests=requests, note=note
    )
    return m, _figure(spec.size, kept, report, fetched, m.ok)


def run_full_speed_resume(
    ctx: Context, tool: Tool, dataset: ds.Dataset, source: Path
) -> tuple[Measurement, dict[str, Any]]:
    """W11: the same download at full speed through the wire meter, killed (kill -9) from the
    proxy thread that sends the byte past 60 % of the file; the figure is what the rerun
    fetches, counted on the wire."""
    setup = _setup(ctx, tool, dataset, source, "trainsync-resume-full")
    spec = setup.spec
    port = int(ctx.server.url.rsplit(":", 1)[1])
    pid: list[int] = []
    crossed: list[int] = []
    try:
        with WireMeter(port, setup.target.bucket, setup.key) as meter:
            target = replace(setup.target, endpoint=meter.url)

            def kill() -> None:
                crossed.append(meter.sent)
                if pid:
                    os.kill(pid[0], signal.SIGKILL)

            meter.arm(int(FULL_CUT_AT * spec.size), kill)
            process = subprocess.Popen(
                tool.command(target),
                env=setup.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            pid.append(process.pid)
            try:
                process.wait(ctx.timeout)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            kept = _kept(setup.partial)
            at_kill = crossed[0] if crossed else 0
            meter.arm(None)
            timing, requests, report, note = _rerun(
                ctx, tool, setup, target, f"{dataset.name}-W11", at_kill, FULL_CUT_AT
            )
            fetched = meter.sent
    finally:
        _teardown(ctx, setup)
    m = Measurement.one_file(
        timing, dataset.name, FULL_WORKLOAD, tool.name, spec.size, requests=requests, note=note
    )
    return m, _figure(spec.size, kept, report, fetched, m.ok, crossed_at_kill=at_kill)


def _figure(
    size: int, kept: int, report: dict[str, Any], fetched: int, ok: bool, **extra: int
) -> dict[str, Any]:
    """What a cut download and its rerun come to: kept by the cut, resumed and fetched."""
    return {
        "size": size,
        **extra,
        "kept_by_cut": kept,
        "resumed": int(report.get("bytes_resumed", 0)),
        "fetched_by_rerun": fetched,
        "share": round(fetched / size, 3),
        "ok": ok,
    }


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(8 * ds.MiB):
            digest.update(chunk)
    return digest.hexdigest()


def resume_target_line(figure: dict[str, Any]) -> str:
    label = f"download cut at 70 %, rerun fetches ≤ {MAX_SHARE} × the file"
    return _share_line(label, figure, MAX_SHARE)


def full_speed_resume_target_line(figure: dict[str, Any]) -> str:
    label = (
        f"download cut at {FULL_CUT_AT * 100:.0f} % on the wire at full speed, rerun fetches "
        f"≤ {FULL_MAX_SHARE} × the file"
    )
    return _share_line(label, figure, FULL_MAX_SHARE)


def _share_line(label: str, figure: dict[str, Any], most: float) -> str:
    share, fetched = figure.get("share", 0.0), figure.get("fetched_by_rerun", 0)
    measured = f"{share:.2f} × ({fetched / ds.MiB:.0f} MiB)"
    return target_line(label, figure, measured, share <= most)
