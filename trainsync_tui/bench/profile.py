"""Where trainsync's time goes: py-spy samples of W1, W3 and W2, grouped by cause."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from trainsync_tui.bench import datasets as ds
from trainsync_tui.bench.measure import clean_env, run
from trainsync_tui.bench.tools import Target, Tool, find
from trainsync_tui.bench.workloads import Context

RATE = 250  # samples per second when only the GIL holder is sampled
ALL_RATE = 100  # all threads: fewer samples, taken without pausing the program

# Checked from the innermost frame outwards; the first rule that matches names the sample.
# A needle is a file fragment, or "file::function" (qualified or bare name). Frames are
# whole functions (py-spy --function), and a C call (hashlib, file I/O, sqlite3, socket)
# shows as the Python function that made it: so our functions that read or write a file
# and hash it in the same loop are one category.
_HASH_IO = "trainsync_tui/engine/hashing.py"
_TRANSFER = "trainsync_tui/engine/transfer/transfers.py"
_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "file read/write + MD5 (trainsync)",
        (
            f"{_HASH_IO}::md5_file",
            f"{_HASH_IO}::etags_by_part_size",
            f"{_HASH_IO}::hash_parts",
            f"{_HASH_IO}::PartHasher.update",
            f"{_HASH_IO}::HashingWriter.write",
            f"{_HASH_IO}::HashingWriter._catch_up",
            f"{_TRANSFER}::Transfers.put",
            f"{_TRANSFER}::Transfers.put_new",
            "trainsync_tui/engine/transfer/single_get.py::get_to_file",
        ),
    ),
    ("hash cache (SQLite)", (f"{_HASH_IO}::HashCache",)),
    ("HTTP and sockets", ("urllib3/", "http/client", "ssl.py", "socket.py")),
    ("botocore (sign, serialise, parse, events)", ("botocore/", "boto3/")),
    ("s3transfer", ("s3transfer/",)),
    ("local tree walk (scandir, stat)", ("trainsync_tui/engine/local/scan.py",)),
    ("S3 listing (trainsync)", ("trainsync_tui/engine/s3/listing.py",)),
    ("manifest (JSON)", ("trainsync_tui/engine/local/manifest.py", "json/")),
    ("plan", ("trainsync_tui/engine/plan/build.py",)),
    ("execute", ("trainsync_tui/engine/run/execute.py", _TRANSFER)),
    ("progress and report", ("trainsync_tui/console.py", "trainsync_tui/engine/run/report.py")),
    # A pool thread parked on its queue or a lock: waiting, not working.
    ("waiting (idle pool threads, locks)", ("threading.py", "queue.py", "concurrent/")),
)


def _category(frames: list[str]) -> str:
    if any("_find_and_load" in f for f in frames):
        return "imports (start-up)"
    for frame in reversed(frames):
        for name, needles in _RULES:
            if any(_matches(frame, n) for n in needles):
                return name
    return "other"


def _matches(frame: str, needle: str) -> bool:
    """Whether a py-spy frame, "Class.function (path/file.py:line)", meets a needle."""
    function, _, where = frame.partition(" (")
    if "::" not in needle:
        return needle in where
    path, wanted = needle.split("::")
    if path not in where:
        return False
    return (
        function == wanted
        or function.startswith(wanted + ".")
        or ("." not in wanted and function.rsplit(".", 1)[-1] == wanted)
    )


def summarize(raw: Path, wall_s: float, rate: int = RATE) -> dict[str, Any]:
    """Share of samples per category and the hottest innermost functions."""
    categories: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        total += count
        categories[_category(frames)] += count
        if frames:
            leaves[frames[-1]] += count
    share = [(c, n / total) for c, n in categories.most_common()] if total else []
    return {
        "samples": total,
        # Samples per wall second over the rate: how many threads were busy at once on average.
        "busy_threads": round(total / rate / wall_s, 2) if wall_s else 0.0,
        "categories": [(c, round(s, 3)) for c, s in share],
        "top_functions": [(f, round(n / total, 3)) for f, n in leaves.most_common(12)]
        if total
        else [],
    }


def _record(
    ctx: Context, pyspy: Path, tool: Tool, target: Target, out: Path, name: str, gil: bool
) -> dict[str, Any]:
    raw = out / f"{name}.raw"
    rate = RATE if gil else ALL_RATE
    command = [str(pyspy), "record", "--format", "raw", "--rate", str(rate), "--function"]
    # Pausing ~40 threads 250 times a second triples the run; --nonblocking does not pause.
    command += ["--output", str(raw)] + (["--gil"] if gil else ["--nonblocking"])
    command += ["--", *tool.command(target)]
    env = clean_env({**ctx.server.client_env(), **tool.env(target)})
    timing = run(command, env, out / f"{name}.log", ctx.timeout)
    if not raw.exists():
        return {"error": f"py-spy wrote nothing ({timing.stderr_tail[:200]})"}
    summary = summarize(raw, timing.wall_s, rate)
    summary["wall_s"] = round(timing.wall_s, 2)
    summary["raw"] = str(raw)
    return summary


def profile_trainsync(
    ctx: Context, tool: Tool, dataset: ds.Dataset, source: Path, out: Path
) -> dict[str, Any]:
    """W1 (first upload), W3 (no-op) and W2 (first download), on all threads and with --gil."""
    pyspy = find("py-spy")
    if pyspy is None:
        return {"skipped": {"error": "py-spy not found (pip install py-spy)"}}
    folder = out / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[str, Any] = {}
    for gil in (False, True):
        label = "GIL holder" if gil else "all threads"
        base = ctx.work / "profile" / ("gil" if gil else "all")
        bucket = f"profile-{'gil' if gil else 'all'}-{dataset.name}"
        ctx.server.create_bucket(bucket)
        target = Target(base / "up", bucket, dataset.actors[0], ctx.server.url, base / "cache")
        ds.clone(source, target.root)
        try:
            down = replace(target, root=base / "down", cache_dir=base / "cache-down")
            (down.root / "data" / "actors").mkdir(parents=True)
            for workload, where in (("W1", target), ("W3", target), ("W2", down)):
                name = f"{workload}-{dataset.name}-{'gil' if gil else 'all'}"
                found[f"{workload} {dataset.name} ({label})"] = _record(
                    ctx, pyspy, tool, where, folder, name, gil
                )
        finally:
            ctx.server.drop_bucket(bucket)
            shutil.rmtree(base, ignore_errors=True)
    return found
