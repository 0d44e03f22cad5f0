"""The bench's output: a markdown table and the same figures as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trainsync_tui.bench.results import BenchResult, Measurement

ANCHORS = ("aws s3 sync", "s5cmd sync", "rclone sync", "rclone sync --checksum")

# (dataset, workload, anchor or "best", highest allowed ratio): the targets.
TARGETS = (
    ("many", "W3", "s5cmd sync", 1.0),
    ("large", "W3", "rclone sync --checksum", 0.4),
    ("large", "W3", "aws s3 sync", 1.0),
    ("many", "W4", "s5cmd sync", 1.0),
    ("large", "W4", "aws s3 sync", 1.0),
    ("large", "W1", "best", 1.0),
    ("large", "W2", "best", 1.0),
    ("many", "W1", "aws s3 sync", 1.0),
    ("many", "W1", "s5cmd sync", 1.25),
    ("many", "W2", "aws s3 sync", 1.0),
    ("many", "W2", "s5cmd sync", 1.25),
    ("fleet", "W10 no-op", "s5cmd sync", 0.8),
)
# Targets met by another trainsync command than `sync` (issue 23: a fleet's audit).
TARGETS_OF = (("fleet", "W10 no-op", "s5cmd sync", 0.8, "trainsync audit"),)

_SHORT = {
    "ListObjectsV2": "List",
    "ListMultipartUploads": "ListUploads",
    "HeadObject": "Head",
    "GetObject": "Get",
    "PutObject": "Put",
    "UploadPart": "Part",
    "CreateMultipartUpload": "MPU",
    "CompleteMultipartUpload": "Complete",
    "AbortMultipartUpload": "Abort",
}


def requests_text(requests: dict[str, int]) -> str:
    """Requests by type; answers of 4xx/5xx (e.g. a HEAD that finds nothing) counted last."""
    text = " ".join(f"{_SHORT.get(k, k)} {v}" for k, v in requests.items() if v and k != "errors")
    failed = requests.get("errors", 0)
    return (text or "–") + (f" (status ≥ 400: {failed})" if failed else "")


def best_anchor(result: BenchResult, dataset: str, workload: str) -> Measurement | None:
    found = [
        m
        for m in result.measurements
        if (m.dataset, m.workload) == (dataset, workload) and m.tool in ANCHORS and m.ok
    ]
    return min(found, key=lambda m: m.wall_s, default=None)


def _row(m: Measurement) -> str:
    cpu = m.user_s + m.sys_s
    state = "ok" if m.ok else f"**failed**: {m.note}"
    return (
        f"| {m.workload} | {m.tool} | {m.wall_s:.2f} | {m.files_per_s:,.0f} | {m.mb_per_s:,.1f} "
        f"| {cpu:.1f} | {m.server_cpu_s:.1f} | {m.peak_rss_mb:.0f} "
        f"| {requests_text(m.requests)} | {state} |"
    )


def ratio_lines(result: BenchResult) -> list[str]:
    lines = [
        "| dataset | workload | trainsync s | best anchor | anchor s | ratio |",
        "|---|---|---:|---|---:|---:|",
    ]
    for dataset, workload in dict.fromkeys((m.dataset, m.workload) for m in result.measurements):
        ours = result.find(dataset, workload, "trainsync")
        best = best_anchor(result, dataset, workload)
        if ours is None or best is None:
            continue
        lines.append(
            f"| {dataset} | {workload} | {ours.wall_s:.2f} | {best.tool} | {best.wall_s:.2f} "
            f"| {ours.wall_s / best.wall_s:.2f} |"
        )
    return lines


def target_lines(result: BenchResult) -> list[str]:
    lines = ["| target | measured | met |", "|---|---:|---|"]
    chosen = [(*t, "trainsync") for t in TARGETS] + list(TARGETS_OF)
    for dataset, workload, anchor, limit, tool in chosen:
        ours = result.find(dataset, workload, tool)
        theirs = (
            best_anchor(result, dataset, workload)
            if anchor == "best"
            else result.find(dataset, workload, anchor)
        )
        label = (
            f"{workload} {dataset} ≤ {limit:g} × {anchor if anchor != 'best' else 'best anchor'}"
        )
        if tool != "trainsync":
            label = f"{tool}: {label}"
        if ours is None or theirs is None or not ours.ok or not theirs.ok:
            lines.append(f"| {label} | – | not measured |")
            continue
        ratio = ours.wall_s / theirs.wall_s
        lines.append(f"| {label} | {ratio:.2f} | {'yes' if ratio <= limit else '**no**'} |")
    huge = result.find("huge", "W3", "trainsync")
    if huge is not None:
        met = "yes" if huge.peak_rss_mb <= 300 else "**no**"
        lines.append(f"| huge audit peak RSS ≤ 300 MB | {huge.peak_rss_mb:.0f} MB | {met} |")
    hashing = result.extras.get("hashing", {})
    if "ratio" in hashing:
        met = "yes" if hashing["ratio"] >= 0.9 else "**no**"
        lines.append(f"| MD5 ≥ 0.9 × md5sum (one core) | {hashing['ratio']:.2f} | {met} |")
    for dataset, tree in result.extras.get("tree_hashing", {}).items():
        label = f"MD5 over the {dataset} tree uses both cores (≥ 1.6 × one thread)"
        met = "yes" if tree["cores_used"] >= 1.6 else "**no**"
        lines.append(f"| {label} | {tree['cores_used']:.2f} | {met} |")
    if "app" in result.extras:
        lines += app_target_lines(result.extras["app"])
    if "app_fleet" in result.extras:
        lines.append(app_fleet_target_line(result.extras["app_fleet"]))
    if "bwlimit" in result.extras:
        from trainsync_tui.bench.bwlimit import bwlimit_target_line

        lines.append(bwlimit_target_line(result.extras["bwlimit"]))
    if "resume" in result.extras:
        from trainsync_tui.bench.resume_cut import resume_target_line

        lines.append(resume_target_line(result.extras["resume"]))
    if "full_speed_resume" in result.extras:
        from trainsync_tui.bench.resume_cut import full_speed_resume_target_line

        lines.append(full_speed_resume_target_line(result.extras["full_speed_resume"]))
    if "upload_resume" in result.extras:
        from trainsync_tui.bench.upload_cut import upload_resume_target_line

        lines.append(upload_resume_target_line(result.extras["upload_resume"]))
    return lines


def app_target_lines(app: dict[str, Any]) -> list[str]:
    """First paint counts the worker's model build too: the user waits for both."""
    paint = app["model_build_ms"] + app["until_idle_ms"]
    label = f"app tree first paint ≤ 1 s ({app['entries']:,} entries; model build + until idle)"
    lines = [f"| {label} | {paint:.0f} ms | {'yes' if paint <= 1000 else '**no**'} |"]
    label = "app key latency ≤ 100 ms during a sync (p95, worse of move and space)"
    during = [app["cursor_sync"], app["toggle_sync"]]
    if not all(d["n"] for d in during):
        return [*lines, f"| {label} | – | not measured (the sync ended first) |"]
    p95 = max(d["p95_ms"] for d in during)
    return [*lines, f"| {label} | {p95:.0f} ms | {'yes' if p95 <= 100 else '**no**'} |"]


def app_fleet_target_line(fleet: dict[str, Any]) -> str:
    shown, actors = fleet["all_shown_s"], fleet["actors"]
    label = f"app, {actors} actors in sync: every actor's state shown ≤ 3 s after start"
    return f"| {label} | {shown:.2f} s | {'yes' if shown <= 3 else '**no**'} |"


def markdown(result: BenchResult) -> str:
    c = result.context
    out = [
        f"# trainsync bench ({c['mode']})",
        "",
        f"- Run: {c['started']}, `{c['command']}`; load average before {c['load_before']}, "
        f"after {c.get('load_after', '?')}; {c['cpus']} CPUs, {c['machine']}, "
        f"Python {c['python']}.",
        f"- Server: {c['server']}. Each tool syncs into a bucket of its own; page cache warm.",
        _repeat_line(c.get("repeat", 1)),
        "- Tools: " + "; ".join(f"{k}: {v}" for k, v in c["versions"].items()) + ".",
    ]
    out += [f"- Skipped: {s}" for s in result.skipped]
    hashing = result.extras.get("hashing")
    if hashing:
        out.append(
            f"- MD5 on one core ({hashing['file_mb']} MB file): trainsync "
            f"{hashing['trainsync_mb_s']} MB/s, md5sum {hashing.get('md5sum_mb_s', '–')} MB/s."
        )
    out += [tree_line(name, tree) for name, tree in result.extras.get("tree_hashing", {}).items()]
    out += ["", "## trainsync against the best anchor (wall time; lower ratio is better)", ""]
    out += ratio_lines(result)
    out += ["", "## Targets from issue 8", ""]
    if c["mode"] == "quick":
        out += [
            "The targets are set for the full datasets. At `--quick` sizes a no-op or a small "
            "transfer takes well under a second, and Python's start-up (0.35–0.5 s) decides it: "
            "judge them with the full run (`trainsync bench`).",
            "",
        ]
    out += target_lines(result)
    for dataset in dict.fromkeys(m.dataset for m in result.measurements):
        out += ["", f"## {dataset}", ""]
        out += [
            "| workload | tool | wall s | files/s | MB/s | CPU s | server CPU s | peak RSS MB "
            "| S3 requests | |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        out += [_row(m) for m in result.measurements if m.dataset == dataset]
    app = result.extras.get("app")
    if app:
        out += ["", f"## The app on a {app['entries']:,}-entry tree", "", "```text"]
        out += [*app["lines"], "```"]
    fleet = result.extras.get("app_fleet")
    if fleet:
        out += ["", f"## The app on {fleet['actors']} actors", "", "```text"]
        out += [*fleet["lines"], "```"]
    profiles = result.extras.get("profiles")
    if profiles:
        out += ["", "## Where trainsync's time goes (py-spy)", ""]
        for name, summary in profiles.items():
            out += profile_lines(name, summary)
    return "\n".join(out) + "\n"


def _repeat_line(repeat: int) -> str:
    if repeat <= 1:
        return "- Each figure is one run (`--repeat N` reports the median of N)."
    return (
        f"- Each figure is the run with the median wall time of {repeat}, tools in alternating "
        "order (huge: one run)."
    )


def tree_line(dataset: str, tree: dict[str, Any]) -> str:
    """How fast the audit hashes a whole tree with no hash cache (`--verify`)."""
    line = (
        f"- The audit's hasher over the {dataset} tree ({tree['files']:,} files, "
        f"{tree['mb']:,} MB): one thread {tree['one_thread_files_s']:,} files/s "
        f"({tree['one_thread_mb_s']:,} MB/s), {tree['threads']} threads "
        f"{tree['threads_files_s']:,} files/s ({tree['threads_mb_s']:,} MB/s)"
    )
    if "md5sum_files_s" in tree:
        processes, rate = tree["md5sum_processes"], tree["md5sum_files_s"]
        line += f"; md5sum on {processes} processes {rate:,} files/s"
    return line + "."


def profile_lines(name: str, summary: dict[str, object]) -> list[str]:
    if "error" in summary:
        return [f"- {name}: {summary['error']}"]
    head = (
        f"**{name}**: {summary['wall_s']} s under py-spy, {summary['samples']} samples, "
        f"{summary['busy_threads']} threads busy on average (`{summary['raw']}`)"
    )
    lines = [head, "", "| where | share |", "|---|---:|"]
    lines += [f"| {cat} | {share:.0%} |" for cat, share in summary["categories"]]  # type: ignore[attr-defined]
    lines += ["", "Hottest innermost frames: "]
    lines[-1] += "; ".join(f"`{f}` {s:.0%}" for f, s in summary["top_functions"][:6])  # type: ignore[index]
    return [*lines, ""]


def write(result: BenchResult, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "bench.md", folder / "bench.json"
    md.write_text(markdown(result), encoding="utf-8")
    js.write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
    return md, js
