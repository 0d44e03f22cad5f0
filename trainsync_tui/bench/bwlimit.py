"""W7: W1 on *large* with `--bwlimit 20M`: the achieved rate against the limit (issue 17)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from trainsync_tui.bench import datasets as ds
from trainsync_tui.bench.results import Measurement, target_line
from trainsync_tui.bench.tools import Target, Tool, trainsync_with
from trainsync_tui.bench.workloads import Context, measure

LIMIT = "20M"
LIMIT_BYTES_S = 20 * ds.MiB  # rclone's units: M is MiB/s
TOLERANCE = 0.10


def run_bwlimit(
    ctx: Context, tool: Tool, dataset: ds.Dataset, source: Path
) -> tuple[Measurement, dict[str, Any]]:
    """First upload of the dataset under the limit, in a bucket of its own; the measurement
    and the figure (wall time from process start to exit, so start-up and listing count)."""
    base = ctx.work / dataset.name / "bwlimit"
    bucket = "trainsync-bwlimit"
    ctx.server.create_bucket(bucket)
    target = Target(base / "up", bucket, dataset.actors[0], ctx.server.url, base / "cache")
    ds.clone(source, target.root)
    limited = trainsync_with(tool, "--bwlimit", LIMIT)
    try:
        m = measure(
            ctx,
            limited,
            target,
            dataset.name,
            f"W7 --bwlimit {LIMIT}",
            dataset.count,
            dataset.bytes,
        )
        stored = ctx.server.object_stats(bucket, target.prefix)
        if m.ok and stored != (m.files, m.bytes):
            m.ok, m.note = False, f"S3 after upload: {stored}, expected {(m.files, m.bytes)}"
    finally:
        ctx.server.drop_bucket(bucket)
        shutil.rmtree(base, ignore_errors=True)
    rate = m.bytes / m.wall_s if m.wall_s else 0.0
    figure = {
        "limit": LIMIT,
        "limit_mib_s": LIMIT_BYTES_S / ds.MiB,
        "bytes": m.bytes,
        "wall_s": m.wall_s,
        "rate_mib_s": round(rate / ds.MiB, 2),
        "rate_mb_s": round(rate / 1e6, 2),
        "ratio": round(rate / LIMIT_BYTES_S, 3),
        "ok": m.ok,
    }
    return m, figure


def bwlimit_target_line(figure: dict[str, Any]) -> str:
    label = f"W1 large with --bwlimit {figure['limit']}: rate within ±10 % of {LIMIT} (MiB/s)"
    ratio = figure.get("ratio", 0.0)
    measured = f"{figure.get('rate_mib_s', 0.0):.2f} MiB/s ({ratio:.2f} ×)"
    return target_line(label, figure, measured, abs(ratio - 1) <= TOLERANCE)
