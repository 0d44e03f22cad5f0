"""W8: a download killed (kill -9) at 70 % of the biggest *large* file, then rerun: the bytes
the rerun fetches against the file's size (issue 17: at most 0.35 ×)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from trainsync_tui.bench import datasets as ds
from trainsync_tui.bench.measure import clean_env, run
from trainsync_tui.bench.results import Measurement
from trainsync_tui.bench.tools import Target, Tool, trainsync_with
from trainsync_tui.bench.workloads import Context

CUT_AT = 0.7
MAX_SHARE = 0.35
WORKLOAD = "W8 download cut at 70 %, rerun"


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


def run_resume(
    ctx: Context, tool: Tool, dataset: ds.Dataset, source: Path
) -> tuple[Measurement, dict[str, Any]]:
    spec = max(dataset.files, key=lambda f: f.size)
    path = ds.training_dir(source, spec.actor) / spec.rel
    base = ctx.work / dataset.name / "resume"
    bucket = "trainsync-resume"
    ctx.server.create_bucket(bucket)
    target = Target(base / "down", bucket, spec.actor, ctx.server.url, base / "cache")
    (target.root / "data" / "actors").mkdir(parents=True)
    client: Any = ctx.server.client()
    client.upload_file(str(path), bucket, target.prefix + spec.rel)  # boto3: 8 MiB parts
    env = clean_env({**ctx.server.client_env(), **tool.env(target)})
    partial = target.local.parent / ".trainsync" / "tmp" / "partial"
    # Slowed to about 4 s for the whole file, so the kill lands near 70 %; the rerun is not.
    slow = trainsync_with(tool, "--bwlimit", f"{max(1, spec.size // (4 * ds.MiB))}M")
    try:
        kept = _cut(slow.command(target), env, partial, spec.size, ctx.timeout)
        mark = ctx.server.mark()
        log = ctx.logs / f"{dataset.name}-W8-rerun.log"
        timing = run(tool.command(target), env, log, ctx.timeout)
        requests = dict(sorted(ctx.server.requests_since(mark).items()))
        note, report = "", {}
        try:
            report = json.loads(timing.stdout)
        except ValueError:
            note = f"exit {timing.returncode}: no JSON report ({timing.stderr_tail[:200]})"
        got = target.local / spec.rel
        if not note and (report.get("errors") or timing.returncode != 0):
            note = f"exit {timing.returncode}: {str(report.get('errors'))[:200]}"
        elif not note and (not got.exists() or _md5(got) != _md5(path)):
            note = "the downloaded file differs from the source"
        elif not note and kept < CUT_AT * spec.size:
            note = f"the cut run ended before {CUT_AT:.0%} ({kept} bytes kept)"
    finally:
        ctx.server.drop_bucket(bucket)
        shutil.rmtree(base, ignore_errors=True)
    fetched = int(report.get("bytes_downloaded", 0)) - int(report.get("bytes_resumed", 0))
    m = Measurement.timed(
        timing,
        dataset=dataset.name,
        workload=WORKLOAD,
        tool=tool.name,
        files=1,
        size=spec.size,
        requests=requests,
        note=note,
    )
    figure = {
        "size": spec.size,
        "kept_by_cut": kept,
        "resumed": int(report.get("bytes_resumed", 0)),
        "fetched_by_rerun": fetched,
        "share": round(fetched / spec.size, 3),
        "ok": m.ok,
    }
    return m, figure


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(8 * ds.MiB):
            digest.update(chunk)
    return digest.hexdigest()


def resume_target_line(figure: dict[str, Any]) -> str:
    label = f"download cut at 70 %, rerun fetches ≤ {MAX_SHARE} × the file"
    if not figure.get("ok"):
        return f"| {label} | – | not measured |"
    met = figure["share"] <= MAX_SHARE
    measured = f"{figure['share']:.2f} × ({figure['fetched_by_rerun'] / ds.MiB:.0f} MiB)"
    return f"| {label} | {measured} | {'yes' if met else '**no**'} |"
