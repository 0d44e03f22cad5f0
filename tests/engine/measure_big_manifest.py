"""Peak RSS and time of plan+guard, and of a sync, for a manifest of N files gone everywhere.

Not a test (a timing belongs in a report, not in an assertion): run it by hand,

    .venv/bin/python -m tests.engine.measure_big_manifest [N] [--force]

"plan": the manifest read and planned, the guard share worked out (no S3); "guard": a
whole sync, which the delete guard refuses; "force": the same sync with --force.

Each measurement runs in a fresh process against the loopback S3 server; the peak is that
process's VmHWM (ru_maxrss would carry the parent's peak across fork and exec).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ACTOR = "0042_big"


def write_manifest(root: Path, n: int) -> Path:
    folder = root / "data" / "actors" / ACTOR
    (folder / "training_data").mkdir(parents=True)
    md5 = "0123456789abcdef0123456789abcdef"
    entry = f'{{"md5": "{md5}", "size": 1234, "updated_at": "2026-01-01T00:00:00Z"}}'
    body = ",\n".join(f'"images/{i // 1000:04d}/{i:07d}.png": {entry}' for i in range(n))
    path = folder / "manifest.json"
    path.write_text(
        f'{{"version": 1, "actor_id": "0042", "actor_name": "{ACTOR}", '
        f'"updated_at": "2026-01-01T00:00:00Z", "files": {{\n{body}\n}}}}\n'
    )
    return path


def _peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def plan_only(root: str) -> None:
    """The manifest read and planned alone, and the guard's share worked out: no S3."""
    from trainsync_tui.engine.local.manifest import load_manifest
    from trainsync_tui.engine.plan.build import build_plan
    from trainsync_tui.engine.scanned import Listings

    path = Path(root) / "data" / "actors" / ACTOR / "manifest.json"
    base = _peak_kib()
    started = time.perf_counter()
    manifest = load_manifest(path, "0042", ACTOR)
    plan = build_plan(Listings(manifest=manifest.entries))
    share = plan.delete_share()
    took = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": round(took, 2),
                "peak_rss_mib": round(_peak_kib() / 1024, 1),
                "before_mib": round(base / 1024, 1),
                "guard_share": share,
            }
        )
    )


def child(root: str, bucket: str, url: str, force: bool) -> None:
    from trainsync_tui.engine.config import Settings
    from trainsync_tui.engine.facade import Engine, SyncOptions

    settings = Settings(
        root=Path(root),
        bucket=bucket,
        endpoint_url=url,
        region="us-east-1",
        cache_dir=Path(root) / "cache",
        concurrency=4,
    )
    engine = Engine(settings)
    base = _peak_kib()
    started = time.perf_counter()
    report = engine.sync(engine.actor(ACTOR), SyncOptions(force=force))
    took = time.perf_counter() - started
    peak = _peak_kib()
    print(
        json.dumps(
            {
                "seconds": round(took, 2),
                "peak_rss_mib": round(peak / 1024, 1),
                "before_sync_mib": round(base / 1024, 1),
                "removed_from_manifest": report.counts.removed_from_manifest,
                "errors": [e[:160] for e in report.errors[:2]],
            }
        )
    )


def main() -> None:
    from tests.conftest import AWS_ENV, s3_client
    from tests.s3server import S3Server

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 600_000
    server = S3Server()
    server.start()
    try:
        bucket = f"measure-{uuid.uuid4().hex[:8]}"
        s3_client(server.url).create_bucket(Bucket=bucket)
        modes = ["plan", "guard", "force"] if "--force" in sys.argv else ["plan", "guard"]
        for mode in modes:
            with tempfile.TemporaryDirectory() as tmp:
                path = write_manifest(Path(tmp), n)
                print(f"{n} entries, manifest {path.stat().st_size / 2**20:.1f} MiB")
                code = (
                    "import sys; from tests.engine.measure_big_manifest import child, plan_only; "
                    "plan_only(sys.argv[1]) if sys.argv[4] == 'plan' else "
                    "child(*sys.argv[1:4], sys.argv[4] == 'force')"
                )
                out = subprocess.run(
                    [sys.executable, "-c", code, tmp, bucket, server.url, mode],
                    env={**AWS_ENV, "PATH": "/usr/bin:/bin"},
                    capture_output=True,
                    text=True,
                    check=False,
                )
                print(mode, out.stdout.strip() or out.stderr[-2000:])
    finally:
        server.stop()


if __name__ == "__main__":
    main()
