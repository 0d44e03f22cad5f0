"""One tool through the workloads on one dataset, each run measured and checked."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from trainsync_tui.bench import datasets as ds
from trainsync_tui.bench.measure import clean_env, run
from trainsync_tui.bench.results import Measurement
from trainsync_tui.bench.server import NanioServer
from trainsync_tui.bench.tools import Target, Tool, slug, trainsync_audit, trainsync_verify

_TRANSFERS = ("PutObject", "UploadPart", "GetObject")


@dataclass(frozen=True)
class Context:
    server: NanioServer
    work: Path
    logs: Path
    timeout: float
    seed: int


def measure(
    ctx: Context, tool: Tool, target: Target, dataset: str, workload: str, files: int, size: int
) -> Measurement:
    mark = ctx.server.mark()
    server_cpu = ctx.server.cpu_seconds()
    env = clean_env({**ctx.server.client_env(), **tool.env(target)})
    log = ctx.logs / f"{dataset}-{workload.replace(' ', '_')}-{slug(tool.name)}.log"
    timing = run(tool.command(target), env, log, ctx.timeout)
    server_cpu = ctx.server.cpu_seconds() - server_cpu
    requests = dict(sorted(ctx.server.requests_since(mark).items()))
    note = ""
    if timing.timed_out:
        note = f"timed out after {ctx.timeout:.0f} s"
    elif timing.returncode != 0:
        note = f"exit {timing.returncode}: {timing.stderr_tail[:300]}"
    elif tool.name.startswith("trainsync"):
        note = _trainsync_note(timing.stdout)
    return Measurement.timed(
        timing,
        dataset=dataset,
        workload=workload,
        tool=tool.name,
        files=files,
        size=size,
        requests=requests,
        note=note,
        server_cpu_s=server_cpu,
    )


def _trainsync_note(stdout: str) -> str:
    """A trainsync run that exits 0 must also report no errors and no conflicts."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return "no JSON report on stdout"
    reports = report.values() if "uploaded" not in report else [report]
    for r in reports:
        if isinstance(r, dict) and (r.get("errors") or r.get("conflicts")):
            return f"reported errors/conflicts: {str(r.get('errors') or r.get('conflicts'))[:200]}"
    return ""


def _check(m: Measurement, problem: str) -> None:
    if problem and m.ok:
        m.ok = False
        m.note = problem


def _same(label: str, got: tuple[int, int], want: tuple[int, int]) -> str:
    return (
        "" if got == want else f"{label}: {got[0]} files/{got[1]} B, expected {want[0]}/{want[1]}"
    )


def run_sequence(
    ctx: Context, tool: Tool, dataset: ds.Dataset, source: Path, steps: list[str]
) -> list[Measurement]:
    """W1 → W3 → W4 → W2 (or W6 up → W6 no-op, W10 up → W10 no-op) for one tool, in a bucket
    of its own."""
    base = ctx.work / dataset.name / slug(tool.name)
    bucket = f"{slug(tool.name)}-{dataset.name}"
    ctx.server.create_bucket(bucket)
    actor = None if dataset.name in ("actors", "fleet") else dataset.actors[0]
    up = Target(base / "up", bucket, actor, ctx.server.url, base / "cache")
    ds.clone(source, up.root)
    out: list[Measurement] = []
    try:
        for step in steps:
            out.extend(_step(ctx, tool, dataset, up, step))
            if not out[-1].ok and step in ("W1", "W6 up", "W10 up"):
                break  # the later workloads would measure a broken state
    finally:
        ctx.server.drop_bucket(bucket)
        shutil.rmtree(base, ignore_errors=True)
    return out


def _step(
    ctx: Context, tool: Tool, dataset: ds.Dataset, up: Target, step: str
) -> list[Measurement]:
    name, server = dataset.name, ctx.server
    if step in ("W1", "W6 up", "W10 up"):
        m = measure(ctx, tool, up, name, step, dataset.count, dataset.bytes)
        _check(
            m,
            _same("S3 after upload", server.object_stats(up.bucket, up.prefix), (m.files, m.bytes)),
        )
        return [m]
    if step in ("W3", "W6 no-op", "W10 no-op"):
        found = [measure(ctx, tool, up, name, step, dataset.count, dataset.bytes)]
        if tool.name == "trainsync" and name == "fleet":
            # The fleet's check alone, beside the anchors' no-op syncs (issue 23).
            found.append(
                measure(ctx, trainsync_audit(tool), up, name, step, dataset.count, dataset.bytes)
            )
        if tool.name == "trainsync" and name == "large":
            # The content-verifying audit, beside rclone --checksum: every byte re-hashed.
            found.append(
                measure(ctx, trainsync_verify(tool), up, name, step, dataset.count, dataset.bytes)
            )
        for m in found:
            moved = sum(m.requests.get(op, 0) for op in _TRANSFERS)
            _check(m, f"a no-op sync transferred ({moved} requests)" if moved else "")
        return found
    if step == "W4":
        change = ds.apply_incremental(dataset, up.root, ctx.seed + 44)
        m = measure(ctx, tool, up, name, step, change.modified + change.added, change.bytes)
        want = ds.tree_stats(up.local)
        _check(m, _same("S3 after incremental", server.object_stats(up.bucket, up.prefix), want))
        sent = m.requests.get("PutObject", 0) + m.requests.get("CreateMultipartUpload", 0)
        _check(m, "" if sent >= m.files else f"only {sent} uploads for {m.files} changed files")
        return [m]
    if step == "W2":
        down = replace(up, root=up.root.parent / "down", cache_dir=up.root.parent / "cache-down")
        down = replace(down, direction="down")
        (down.root / "data" / "actors").mkdir(parents=True)
        want = server.object_stats(up.bucket, up.prefix)
        m = measure(ctx, tool, down, name, step, *want)
        _check(m, _same("local after download", ds.tree_stats(down.local), want))
        return [m]
    raise ValueError(step)
