"""The whole bench: server up, each dataset generated once, every tool through its workloads."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trainsync_tui.bench import datasets as ds
from trainsync_tui.bench.measure import clean_env, run
from trainsync_tui.bench.options import BenchOptions, build_dataset, parse, workloads_for
from trainsync_tui.bench.results import BenchResult, Measurement, median_runs
from trainsync_tui.bench.server import NanioServer
from trainsync_tui.bench.tools import Target, Tool, all_tools
from trainsync_tui.bench.workloads import Context, measure, run_sequence


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _version(tool: Tool) -> str:
    if tool.binary is None:
        return "missing"
    if tool.name == "trainsync":
        from importlib.metadata import version

        return f"trainsync {version('trainsync')}"
    flag = {"s5cmd sync": ["version"]}.get(tool.name, ["--version"])
    try:
        done = subprocess.run([str(tool.binary), *flag], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def _context(options: BenchOptions, tools: list[Tool]) -> dict[str, object]:
    from importlib.metadata import version

    return {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "quick" if options.quick else "full",
        "command": _command(options),
        "repeat": options.repeat,
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "server": f"nanio {version('nanio')} on 127.0.0.1, {options.server_workers} worker(s)",
        "versions": {t.name: _version(t) for t in tools},
        "seed": options.seed,
    }


def _command(options: BenchOptions) -> str:
    """The options that change what ran, as typed (a partial run must not read as a full one)."""
    words = ["trainsync bench", *(["--quick"] if options.quick else [])]
    defaults = parse(["--quick"] if options.quick else [])
    for flag, chosen, default in (
        ("--datasets", options.datasets, defaults.datasets),
        ("--workloads", options.workloads, defaults.workloads),
        ("--tools", options.tools, None),
    ):
        if chosen and chosen != default:
            words.append(f"{flag} {','.join(chosen)}")
    if options.repeat > 1:
        words.append(f"--repeat {options.repeat}")
    return " ".join(words)


def _warm(root: Path) -> None:
    """Read every file once so no tool pays for the first read from disk."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb", buffering=0) as handle:
                while handle.read(8 * 1024 * 1024):
                    pass


def _compile_trainsync() -> None:
    """What `pip install` does for a package and an editable install leaves to the first
    run: no measured run pays for compiling trainsync's modules."""
    import compileall

    import trainsync_tui

    compileall.compile_dir(Path(trainsync_tui.__file__).parent, quiet=1)


def run_all(options: BenchOptions) -> BenchResult:
    tools = [t for t in all_tools() if not options.tools or _chosen(t.name, options.tools)]
    result = BenchResult(context=_context(options, tools))
    for tool in tools:
        if not tool.available:
            result.skipped.append(f"{tool.name}: {tool.missing}")
            say(f"skip {tool.name}: {tool.missing}")
    ready = [t for t in tools if t.available]
    work = options.work or Path(tempfile.mkdtemp(prefix="trainsync-bench-", dir="/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    server = NanioServer(work / "s3" / "data", workers=options.server_workers)
    ctx = Context(server, work / "runs", options.out / "logs", options.timeout, options.seed)
    say(f"scratch {work}; nanio on {server.url}")
    _compile_trainsync()
    server.start()
    try:
        for name in options.datasets:
            dataset = build_dataset(name, options.quick, options.seed)
            steps = workloads_for(name, options.workloads)
            issue17 = name == "large" and bool({"W7", "W8", "W9", "W11"} & set(options.workloads))
            if not steps and not issue17:
                continue
            source = work / "src" / name
            say(f"{name}: writing {dataset.count} files, {dataset.bytes / 2**20:.0f} MiB")
            ds.generate(dataset, source)
            _warm(source)
            if name in ("large", "many"):
                from trainsync_tui.bench.hashing import hash_speed, tree_speed

                if name == "large":
                    result.extras["hashing"] = hash_speed(source)
                result.extras.setdefault("tree_hashing", {})[name] = tree_speed(source)
            if name == "huge":
                _huge(ctx, ready, dataset, source, result)
                # A tree as big as the huge dataset: 100,000 entries, 10,000 with --quick.
                say(f"huge: the app on a {dataset.count:,}-entry tree, keys during a sync")
                log = ctx.logs / "huge-app-tree.log"
                add_app_figures(result, app_command(dataset.count), log, ctx.timeout)
            elif steps:
                runs: list[Measurement] = []
                for round_ in range(options.repeat):
                    # Alternate the order, so no tool always meets the server first or last.
                    for tool in ready if round_ % 2 == 0 else ready[::-1]:
                        say(f"{name}: {tool.name} {' → '.join(steps)}")
                        found = run_sequence(ctx, tool, dataset, source, steps)
                        for m in found:
                            say(f"  {m.workload:9} {m.wall_s:8.2f} s  {'ok' if m.ok else m.note}")
                        runs.extend(found)
                result.measurements.extend(median_runs(runs))
            if issue17:
                _bandwidth_and_resume(ctx, ready, dataset, source, options, result)
            if name == "fleet" and any(t.name == "trainsync" for t in ready):
                actors = 50 if options.quick else 200
                say(f"fleet: the app opened on {actors} actors in sync")
                log = ctx.logs / "fleet-app.log"
                add_app_fleet_figures(result, app_fleet_command(actors), log, ctx.timeout)
            if options.profile and name in ("many", "large"):
                from trainsync_tui.bench.profile import profile_trainsync

                trainsync = next((t for t in ready if t.name == "trainsync"), None)
                if trainsync is not None:
                    say(f"{name}: profiling trainsync W1, W3 and W2 with py-spy")
                    profiles = result.extras.setdefault("profiles", {})
                    profiles.update(profile_trainsync(ctx, trainsync, dataset, source, options.out))
            shutil.rmtree(source, ignore_errors=True)
    finally:
        server.stop()
        result.context["load_after"] = [round(x, 2) for x in os.getloadavg()]
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    return result


def _bandwidth_and_resume(
    ctx: Context,
    tools: list[Tool],
    dataset: ds.Dataset,
    source: Path,
    options: BenchOptions,
    result: BenchResult,
) -> None:
    """Issue 17's figures, trainsync only: W7 (W1 under --bwlimit 20M), W8 (a download
    killed at 70 %, then rerun) and W9 (an upload as big as the dataset killed at 70 %,
    then rerun); and issue 23's W11 (W8 at full speed, killed at 60 % on the wire)."""
    from trainsync_tui.bench.bwlimit import run_bwlimit
    from trainsync_tui.bench.resume_cut import run_full_speed_resume, run_resume
    from trainsync_tui.bench.upload_cut import run_upload_resume

    trainsync = next((t for t in tools if t.name == "trainsync"), None)
    if trainsync is None:
        return
    size = round(dataset.bytes / ds.MiB) * ds.MiB  # 2 GiB; 256 MiB with --quick
    jobs = (
        ("W7", "bwlimit", lambda: run_bwlimit(ctx, trainsync, dataset, source)),
        ("W8", "resume", lambda: run_resume(ctx, trainsync, dataset, source)),
        ("W9", "upload_resume", lambda: run_upload_resume(ctx, trainsync, dataset, size)),
        (
            "W11",
            "full_speed_resume",
            lambda: run_full_speed_resume(ctx, trainsync, dataset, source),
        ),
    )
    for workload, key, job in jobs:
        if workload not in options.workloads:
            continue
        say(f"{dataset.name}: trainsync {workload}")
        m, figure = job()
        say(f"  {m.workload} {m.wall_s:8.2f} s  {'ok' if m.ok else m.note}  {figure}")
        result.measurements.append(m)
        result.extras[key] = figure


def _chosen(name: str, wanted: tuple[str, ...]) -> bool:
    return any(name == w or name.split()[0] == w for w in wanted)


def _huge(
    ctx: Context, tools: list[Tool], dataset: ds.Dataset, source: Path, result: BenchResult
) -> None:
    """Audit only: one tool fills the bucket, then each tool that can treat it as in sync runs."""
    by_name = {t.name: t for t in tools}
    seeder = by_name.get("s5cmd sync") or by_name.get("aws s3 sync")
    bucket = "huge"
    ctx.server.create_bucket(bucket)
    actor = dataset.actors[0]
    target = Target(source, bucket, actor, ctx.server.url, ctx.work / "huge-cache")
    try:
        if seeder is None:
            result.skipped.append("huge: needs s5cmd or aws to fill the bucket")
            say("skip huge's audits: needs s5cmd or aws to fill the bucket")
            return
        say(f"huge: filling the bucket with {seeder.name}")
        seed = measure(ctx, seeder, target, "huge", "W1 (fill)", dataset.count, dataset.bytes)
        result.measurements.append(seed)
        if not seed.ok:
            return
        for tool in tools:
            if tool.name.startswith("rclone"):
                result.skipped.append(
                    f"huge: {tool.name} (objects another tool wrote carry no rclone mtime, so "
                    "its 'no-op' would re-upload every file)"
                )
                continue
            steps = ["W3 (adopt)", "W3"] if tool.name == "trainsync" else ["W3"]
            for step in steps:
                # trainsync's first run hashes every file and writes the manifest (cold cache);
                # the second is the audit of an in-sync actor with the warm cache.
                m = measure(ctx, tool, target, "huge", step, dataset.count, dataset.bytes)
                say(f"huge: {tool.name} {step} {m.wall_s:.2f} s {m.peak_rss_mb:.0f} MB {m.note}")
                result.measurements.append(m)
    finally:
        ctx.server.drop_bucket(bucket)


def app_command(entries: int) -> list[str]:
    module = "trainsync_tui.bench.app_tree"
    return [sys.executable, "-m", module, "--entries", str(entries), "--json"]


def app_fleet_command(actors: int) -> list[str]:
    module = "trainsync_tui.bench.app_fleet"
    return [sys.executable, "-m", module, "--actors", str(actors), "--json"]


def measure_app(command: list[str], log: Path, timeout: float) -> tuple[dict[str, Any] | None, str]:
    """The app measurement's figures, or None and why not (one line).

    In a process of its own: its gc.freeze(), event loop and embedded S3 must not linger in
    the bench's process, and a crash there must not end the bench.
    """
    try:
        timing = run(command, clean_env({}), log, timeout)
    except OSError as error:
        return None, f"could not start: {error}"
    if timing.timed_out:
        return None, f"timed out after {timeout:.0f} s"
    if timing.returncode != 0:
        tail = timing.stderr_tail.splitlines()[-1:] or ["no message"]
        return None, f"exit {timing.returncode}: {tail[0][:200]}"
    try:
        figures = json.loads(timing.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        figures = None
    if not isinstance(figures, dict):
        return None, "its output was not the JSON expected"
    figures["peak_rss_mb"] = round(timing.peak_rss_mb, 1)  # the app and its embedded S3
    return figures, ""


def _measured_into(
    result: BenchResult, key: str, what: str, command: list[str], log: Path, timeout: float
) -> dict[str, Any] | None:
    """An app measurement's figures into result.extras[key], or a skip note naming `what`."""
    figures, why = measure_app(command, log, timeout)
    if figures is None:
        result.skipped.append(f"{what}: {why}")
        say(f"skip the {what}: {why}")
        return None
    result.extras[key] = figures
    return figures


def add_app_figures(result: BenchResult, command: list[str], log: Path, timeout: float) -> None:
    """The app's first paint and key latency into result.extras["app"], or a skip note."""
    figures = _measured_into(result, "app", "app tree measurement", command, log, timeout)
    if figures is not None:
        say(
            f"huge: app first paint {figures['model_build_ms'] + figures['until_idle_ms']:.0f} "
            f"ms, p95 during a sync {figures['cursor_sync']['p95_ms']:.0f} ms (move), "
            f"{figures['toggle_sync']['p95_ms']:.0f} ms (space)"
        )


def add_app_fleet_figures(
    result: BenchResult, command: list[str], log: Path, timeout: float
) -> None:
    """The app's time to show every actor of a fleet into result.extras["app_fleet"]."""
    figures = _measured_into(result, "app_fleet", "app fleet measurement", command, log, timeout)
    if figures is not None:
        rows, shown = figures["first_rows_s"], figures["all_shown_s"]
        say(f"fleet: the app's rows {rows:.2f} s, every actor's state {shown:.2f} s")
