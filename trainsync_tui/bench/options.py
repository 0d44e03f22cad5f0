"""What `trainsync bench` runs: the command line and the quick and full profiles."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from trainsync_tui.bench import datasets as ds

WORKLOADS = ("W1", "W2", "W3", "W4", "W6", "W7", "W8", "W9", "W10", "W11")


@dataclass(frozen=True)
class BenchOptions:
    quick: bool
    out: Path
    work: Path | None
    datasets: tuple[str, ...]
    workloads: tuple[str, ...]
    tools: tuple[str, ...] | None
    server_workers: int
    timeout: float
    profile: bool
    keep: bool
    seed: int
    repeat: int = 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="trainsync bench",
        description="trainsync side by side with aws s3 sync, s5cmd sync and rclone sync "
        "on one loopback nanio server and the same seeded datasets.",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small datasets (many: 2,000 files; large: 256 MiB; --all: 5 x 100 files; "
        "fleet: 50 x 20 files; no huge), under 5 minutes",
    )
    p.add_argument("--out", type=Path, default=Path("bench-results"), help="report folder")
    p.add_argument("--work", type=Path, help="scratch folder (default: a new one under /tmp)")
    p.add_argument(
        "--datasets",
        help="comma list of many,large,actors,fleet,huge (default: all; --quick: no huge)",
    )
    p.add_argument(
        "--workloads",
        help="comma list of W1,W2,W3,W4,W6,W7,W8,W9,W10,W11 (default: all; W7 --bwlimit 20M, "
        "W8 a download cut at 70 %%, W11 one cut at full speed at 60 %% on the wire, and W9 a "
        "2 GiB upload cut at 70 %% (256 MiB with --quick) run "
        "on large, trainsync only)",
    )
    p.add_argument(
        "--tools",
        help="comma list of tool names to run, e.g. trainsync,s5cmd (default: every one found)",
    )
    p.add_argument("--server-workers", type=int, default=1, help="nanio worker processes (1)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed per run")
    p.add_argument(
        "--profile",
        action="store_true",
        help="also profile trainsync's W1, W3 and W2 on many and large with py-spy (needs py-spy)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every tool's workloads N times, tools in alternating order, and report "
        "each tool's run with the median wall time (not huge: it runs once)",
    )
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--seed", type=int, default=8)
    return p


def parse(argv: list[str]) -> BenchOptions:
    """`trainsync bench --quick` and `trainsync bench -- --quick` both reach here."""
    args = parser().parse_args(argv[1:] if argv[:1] == ["--"] else argv)
    default_sets = (
        ("many", "large", "actors", "fleet")
        if args.quick
        else ("many", "large", "actors", "fleet", "huge")
    )
    return BenchOptions(
        quick=args.quick,
        out=args.out,
        work=args.work,
        datasets=_split(args.datasets) or default_sets,
        workloads=_split(args.workloads) or WORKLOADS,
        tools=_split(args.tools) or None,
        server_workers=args.server_workers,
        timeout=args.timeout,
        profile=args.profile,
        keep=args.keep,
        seed=args.seed,
        repeat=max(1, args.repeat),
    )


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in (text or "").split(",") if t.strip())


def build_dataset(name: str, quick: bool, seed: int) -> ds.Dataset:
    if name == "many":
        return ds.many("many", 2_000 if quick else 20_000, 20 if quick else 100, seed)
    if name == "large":
        if quick:
            return ds.large("large", [64, 32], 256, seed + 1)
        return ds.large("large", [256, 192, 128, 64, 32], 2048, seed + 1)
    if name == "actors":
        return ds.actors("actors", 5 if quick else 20, 100 if quick else 500, seed + 2)
    if name == "fleet":
        # Issue 23: a fleet costs per actor, not per byte.
        return ds.actors("fleet", 50 if quick else 1000, 20, seed + 4)
    if name == "huge":
        return ds.many("huge", 10_000 if quick else 100_000, 100 if quick else 1000, seed + 3)
    raise SystemExit(
        f"trainsync bench: unknown dataset {name!r} (many, large, actors, fleet, huge)"
    )


def workloads_for(dataset: str, chosen: tuple[str, ...]) -> list[str]:
    """Workloads in the order they run: each leaves the state the next one needs."""
    if dataset == "actors":
        return ["W6 up", "W6 no-op"] if "W6" in chosen else []
    if dataset == "fleet":
        return ["W10 up", "W10 no-op"] if "W10" in chosen else []
    if dataset == "huge":
        return ["W3"] if "W3" in chosen else []
    steps = [w for w in ("W3", "W4", "W2") if w in chosen]
    # Every later workload starts from the bucket W1 filled.
    return ["W1", *steps] if steps or "W1" in chosen else []
