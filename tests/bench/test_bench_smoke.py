"""The bench harness's parts work: seeded datasets, request counting, the report. No timing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from trainsync_tui.bench import datasets as ds
from trainsync_tui.bench.measure import run
from trainsync_tui.bench.options import build_dataset, parse, workloads_for
from trainsync_tui.bench.profile import summarize
from trainsync_tui.bench.report import markdown, write
from trainsync_tui.bench.results import BenchResult, Measurement
from trainsync_tui.bench.runner import add_app_figures, measure_app
from trainsync_tui.bench.server import classify, count_requests


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_dataset_is_the_same_bytes_for_the_same_seed(tmp_path: Path) -> None:
    dataset = ds.many("many", 30, 3, seed=5)
    ds.generate(dataset, tmp_path / "a")
    ds.generate(ds.many("many", 30, 3, seed=5), tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    folder = ds.training_dir(tmp_path / "a", dataset.actors[0])
    assert ds.tree_stats(folder) == (30, dataset.bytes)
    assert len({p.parent for p in folder.rglob("*.bin")}) == 3
    assert all(1024 <= f.size <= 16 * 1024 for f in dataset.files)


def test_large_dataset_has_big_files_and_the_total_asked_for() -> None:
    dataset = ds.large("large", [32, 16], 100, seed=1)
    sizes = sorted((f.size for f in dataset.files), reverse=True)
    assert sizes[:2] == [32 * ds.MiB, 16 * ds.MiB]
    assert all(f.size <= 8 * ds.MiB for f in dataset.files[2:])
    assert 99 * ds.MiB < dataset.bytes <= 100 * ds.MiB


def test_incremental_change_keeps_sizes_and_leaves_a_hard_linked_clone_alone(
    tmp_path: Path,
) -> None:
    dataset = ds.many("many", 200, 4, seed=3)
    ds.generate(dataset, tmp_path / "src")
    ds.clone(tmp_path / "src", tmp_path / "copy")
    before = _files(tmp_path / "src")
    change = ds.apply_incremental(dataset, tmp_path / "copy", seed=9)
    after = _files(tmp_path / "copy")
    assert _files(tmp_path / "src") == before
    assert (change.modified, change.added) == (2, 2)
    modified = [k for k in before if after[k] != before[k]]
    assert len(modified) == 2
    assert all(len(after[k]) == len(before[k]) for k in modified)
    assert len(after) == len(before) + 2


def test_actors_dataset_spreads_files_over_actors() -> None:
    dataset = ds.actors("actors", 4, 25, seed=2)
    assert len(dataset.actors) == 4
    assert dataset.count == 100


def test_access_log_lines_are_counted_by_s3_operation() -> None:
    log = "\n".join(
        f'INFO:     127.0.0.1:1 - "{line}" {status}'
        for line, status in [
            ("GET /b?list-type=2&prefix=a%2F&delimiter=%2F HTTP/1.1", "200 OK"),
            ("GET /b?uploads&prefix=a%2F HTTP/1.1", "200 OK"),
            ("PUT /b/a/x.bin HTTP/1.1", "200 OK"),
            ("PUT /b/a/y.bin?partNumber=1&uploadId=u HTTP/1.1", "200 OK"),
            ("POST /b/a/y.bin?uploads HTTP/1.1", "200 OK"),
            ("POST /b/a/y.bin?uploadId=u HTTP/1.1", "200 OK"),
            ("HEAD /b/a/x.bin HTTP/1.1", "404 Not Found"),
            ("GET /b/a/x.bin HTTP/1.1", "200 OK"),
            ("GET /b?prefix=a%2F HTTP/1.1", "200 OK"),
            ("PUT /b/actors/0001_a/training_data.trainsync-lease.json HTTP/1.1", "200 OK"),
            ("DELETE /b/actors/0001_a/training_data.trainsync-lease.json HTTP/1.1", "204"),
        ]
    )
    assert count_requests(log) == {
        "ListObjectsV2": 1,
        "ListMultipartUploads": 1,
        "PutObject": 1,
        "UploadPart": 1,
        "CreateMultipartUpload": 1,
        "CompleteMultipartUpload": 1,
        "HeadObject": 1,
        "GetObject": 1,
        "ListObjects": 1,
        "Lease": 2,  # not a PutObject: a no-op sync holds its lease and moves nothing
        "errors": 1,
    }
    assert classify("PUT", "/bucket") == "CreateBucket"
    assert classify("HEAD", "/bucket") == "HeadBucket"


def test_run_reports_exit_code_and_the_programs_own_peak_memory(tmp_path: Path) -> None:
    # The peak is held for 0.5 s: the sampler reads VmHWM every 20 ms, and a program that
    # exits as soon as its last page is touched may end between two reads (CI saw 148.7).
    grow = (
        "import time; x = bytearray(150 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); "
        "time.sleep(0.5); print('done')"
    )
    timing = run([sys.executable, "-c", grow], {}, tmp_path / "grow.log", timeout=60)
    assert timing.returncode == 0
    assert timing.stdout.strip() == "done"
    assert 150 <= timing.peak_rss_mb < 400
    # `sleep` is the program measured here (small, and alive long enough to be sampled).
    small = run(["sleep", "0.3"], {}, tmp_path / "sleep.log", timeout=60)
    # A small program is not charged with the size of the Python that started it.
    assert small.peak_rss_mb < 20


def _result() -> BenchResult:
    def m(tool: str, wall: float, ok: bool = True) -> Measurement:
        return Measurement(
            "many", "W3", tool, 2000, 16_000_000, wall, 0.4, 0.1, 60.0,
            {"ListObjectsV2": 21}, ok, "" if ok else "exit 1: boom",
        )  # fmt: skip

    result = BenchResult(
        context={
            "started": "2026-11-24 20:00 UTC",
            "mode": "quick",
            "command": "trainsync bench",
            "load_before": [0.1, 0.1, 0.1],
            "load_after": [1.0, 1.0, 1.0],
            "cpus": 2,
            "machine": "Linux",
            "python": "3.11",
            "server": "nanio",
            "versions": {},
        }
    )
    result.measurements = [m("trainsync", 0.5), m("s5cmd sync", 0.25), m("aws s3 sync", 0.2, False)]
    result.skipped = ["rclone sync: rclone not found"]
    return result


def test_report_gives_ratio_to_best_working_anchor_in_markdown_and_json(tmp_path: Path) -> None:
    md_path, json_path = write(_result(), tmp_path / "out")
    text = md_path.read_text(encoding="utf-8")
    # aws failed, so the best anchor is s5cmd: 0.5 / 0.25.
    assert "| many | W3 | 0.50 | s5cmd sync | 0.25 | 2.00 |" in text
    assert "| W3 many ≤ 1 × s5cmd sync | 2.00 | **no** |" in text
    assert "**failed**: exit 1: boom" in text
    assert "| CPU s | server CPU s |" in text
    assert "rclone sync: rclone not found" in text
    assert "judge them with the full run (`trainsync bench`)" in text  # a --quick report
    full = _result()
    full.context["mode"] = "full"
    assert "judge them with the full run" not in markdown(full)
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["measurements"][0]["files_per_s"] == 4000.0
    assert data["measurements"][0]["requests"] == {"ListObjectsV2": 21}
    assert markdown(_result()) == text


def test_tree_hashing_is_measured_on_the_audits_hasher_and_judged_for_both_cores(
    tmp_path: Path,
) -> None:
    from trainsync_tui.bench.hashing import tree_speed

    dataset = ds.many("many", 40, 4, seed=3)
    ds.generate(dataset, tmp_path / "tree")
    tree = tree_speed(tmp_path / "tree", runs=1)
    assert tree["files"] == 40 and tree["mb"] == round(dataset.bytes / 1e6, 1)
    assert tree["one_thread_files_s"] > 0 and tree["threads"] == 8
    assert tree["cores_used"] == round(tree["threads_mb_s"] / tree["one_thread_mb_s"], 2)
    result = _result()
    result.extras["tree_hashing"] = {
        "large": {**tree, "cores_used": 1.95},
        "many": {**tree, "cores_used": 0.9},
    }
    text = markdown(result)
    assert "| MD5 over the large tree uses both cores (≥ 1.6 × one thread) | 1.95 | yes |" in text
    assert "| MD5 over the many tree uses both cores (≥ 1.6 × one thread) | 0.90 | **no** |" in text
    assert "- The audit's hasher over the many tree (40 files, " in text


def _app_figures(build_ms: float, idle_ms: float, move_p95: float, toggle_p95: float) -> dict:
    def latency(p95: float) -> dict[str, float]:
        return {"n": 40, "median_ms": 2.0, "p95_ms": p95, "max_ms": p95 + 5}

    return {
        "entries": 100_000,
        "model_build_ms": build_ms,
        "first_paint_ms": 1.0,
        "until_idle_ms": idle_ms,
        "cursor_idle": latency(3.0),
        "cursor_sync": latency(move_p95),
        "toggle_sync": latency(toggle_p95),
        "sync_running_at_end": True,
        "escape_stop_s": 0.1,
        "lines": ["first paint of the tree: 1 ms on the UI thread, 60 ms until idle"],
    }


def test_report_judges_the_apps_first_paint_and_key_latency(tmp_path: Path) -> None:
    met = _result()
    met.extras["app"] = _app_figures(500.0, 60.0, 5.0, 90.0)
    md_path, json_path = write(met, tmp_path / "met")
    text = md_path.read_text(encoding="utf-8")
    paint = "| app tree first paint ≤ 1 s (100,000 entries; model build + until idle)"
    latency = "| app key latency ≤ 100 ms during a sync (p95, worse of move and space)"
    assert f"{paint} | 560 ms | yes |" in text
    assert f"{latency} | 90 ms | yes |" in text
    assert "## The app on a 100,000-entry tree" in text
    assert "60 ms until idle" in text
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["extras"]["app"]["toggle_sync"]["p95_ms"] == 90.0

    # The build alone fits in 1 s but the user waits for both; the toggles are the slow keys.
    missed = _result()
    missed.extras["app"] = _app_figures(950.0, 60.0, 5.0, 140.0)
    text = markdown(missed)
    assert f"{paint} | 1010 ms | **no** |" in text
    assert f"{latency} | 140 ms | **no** |" in text
    assert "app tree" not in markdown(_result())


def test_a_failed_app_measurement_is_a_one_line_reason(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    fail = [sys.executable, "-c", "import sys; print('ModuleNotFoundError: moto', file=sys.stderr)"
            "; raise SystemExit(3)"]  # fmt: skip
    result = _result()
    add_app_figures(result, fail, log, timeout=60)
    assert result.skipped[-1] == "app tree measurement: exit 3: ModuleNotFoundError: moto"
    assert "app" not in result.extras
    assert "- Skipped: app tree measurement: exit 3" in markdown(result)
    garbled = [sys.executable, "-c", "print('not json')"]
    assert measure_app(garbled, log, timeout=60) == (None, "its output was not the JSON expected")
    fine = [sys.executable, "-c", "print('noise'); print('{\"entries\": 10}')"]
    figures, why = measure_app(fine, log, timeout=60)
    assert why == "" and figures is not None and figures["entries"] == 10


def test_profile_summary_groups_samples_by_cause(tmp_path: Path) -> None:
    raw = tmp_path / "p.raw"
    raw.write_text(
        "main (a.py:1);md5_file (trainsync_tui/engine/hashing.py:19) 20\n"
        # Methods show with their class: the hashing loops are still found by name.
        "run (t.py:1);get_to_file (trainsync_tui/engine/transfer/single_get.py:20) 5\n"
        "_worker (concurrent/futures/thread.py:69);PartHasher.update "
        "(trainsync_tui/engine/hashing.py:75) 5\n"
        "run (t.py:1);_api_call (botocore/client.py:5);readinto (socket.py:692) 50\n"
        "run (t.py:1);_make_api_call (botocore/client.py:9) 15\n"
        "<module> (x.py:1);_find_and_load (<frozen importlib._bootstrap>:1) 5\n",
        encoding="utf-8",
    )
    summary = summarize(raw, wall_s=1.0)
    shares = dict(summary["categories"])
    assert summary["samples"] == 100
    assert shares == {
        "HTTP and sockets": 0.5,
        "file read/write + MD5 (trainsync)": 0.3,
        "botocore (sign, serialise, parse, events)": 0.15,
        "imports (start-up)": 0.05,
    }


def test_repeated_runs_report_each_tools_median_run_whole() -> None:
    from trainsync_tui.bench.results import median_runs

    def m(tool: str, workload: str, wall: float) -> Measurement:
        return Measurement("large", workload, tool, 1, 1, wall, wall / 2, 0.1, 10.0, {}, True)

    runs = [
        m("trainsync", "W1", 9.0),
        m("aws s3 sync", "W1", 8.0),
        m("aws s3 sync", "W1", 7.0),
        m("trainsync", "W1", 12.0),
        m("trainsync", "W1", 8.5),
        m("aws s3 sync", "W1", 9.5),
        m("trainsync", "W2", 5.0),
        m("trainsync", "W2", 4.0),
    ]
    chosen = median_runs(runs)
    assert [(c.tool, c.workload, c.wall_s) for c in chosen] == [
        ("trainsync", "W1", 9.0),
        ("aws s3 sync", "W1", 8.0),
        ("trainsync", "W2", 4.0),  # an even count takes the lower middle
    ]
    assert chosen[0].user_s == 4.5  # the figures of that one run, not medians of each
    assert parse(["--repeat", "3"]).repeat == 3 and parse([]).repeat == 1
    result = _result()
    result.context["repeat"] = 3
    assert "median wall time of 3, tools in alternating order" in markdown(result)


def test_quick_profile_is_smaller_and_orders_workloads_after_the_upload() -> None:
    quick = parse(["--quick"])
    assert "huge" not in quick.datasets
    assert build_dataset("many", True, 1).count == 2_000
    assert build_dataset("many", False, 1).count == 20_000
    assert 2047 * ds.MiB < build_dataset("large", False, 1).bytes <= 2048 * ds.MiB
    assert workloads_for("many", ("W3",)) == ["W1", "W3"]
    assert workloads_for("actors", quick.workloads) == ["W6 up", "W6 no-op"]


def test_trainsync_bench_takes_its_options_with_or_without_the_separator(capsys) -> None:
    from trainsync_tui.cli import main

    for argv in (["bench", "--help"], ["bench", "--", "--help"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 0
        assert "--quick" in capsys.readouterr().out
    options = parse(["--", "--quick", "--datasets", "many"])
    assert options.quick and options.datasets == ("many",)


def test_report_judges_the_bandwidth_limit_and_the_resumed_download() -> None:
    """Issue 17's figures: the rate under --bwlimit 20M within ±10 %, the rerun after a cut
    download fetching at most 0.35 × the file."""
    result = _result()
    result.extras["bwlimit"] = {"limit": "20M", "rate_mib_s": 19.4, "ratio": 0.97, "ok": True}
    result.extras["resume"] = {
        "share": 0.25,
        "fetched_by_rerun": 64 * ds.MiB,
        "ok": True,
        "size": 256 * ds.MiB,
    }
    text = markdown(result)
    assert "| W1 large with --bwlimit 20M: rate within ±10 % of 20M (MiB/s) " in text
    assert "| 19.40 MiB/s (0.97 ×) | yes |" in text
    label = "| download cut at 70 %, rerun fetches ≤ 0.35 × the file"
    assert f"{label} | 0.25 × (64 MiB) | yes |" in text
    result.extras["bwlimit"].update(rate_mib_s=17.2, ratio=0.86)
    result.extras["resume"].update(share=1.0)
    text = markdown(result)
    assert "| 17.20 MiB/s (0.86 ×) | **no** |" in text and "| 1.00 × (64 MiB) | **no** |" in text


def test_report_judges_the_full_speed_resume() -> None:
    """Issue 23's figure: cut at 60 % on the wire at full speed, the rerun fetches ≤ 0.5 ×."""
    result = _result()
    figure = {"share": 0.45, "fetched_by_rerun": 116 * ds.MiB, "ok": True}
    result.extras["full_speed_resume"] = figure
    label = "| download cut at 60 % on the wire at full speed, rerun fetches ≤ 0.5 × the file"
    assert f"{label} | 0.45 × (116 MiB) | yes |" in markdown(result)
    figure.update(share=0.78)
    assert f"{label} | 0.78 × (116 MiB) | **no** |" in markdown(result)
    figure.update(ok=False)
    assert f"{label} | – | not measured |" in markdown(result)


def test_w11_kills_a_download_at_60_percent_on_the_wire_and_the_rerun_fetches_the_rest(
    tmp_path: Path,
) -> None:
    """W11 at a small size through the real CLI and nanio: killed from the proxy thread that
    sends the byte past 60 %, the rerun fetches on the wire exactly what the cut did not keep,
    and the file is the source's."""
    from trainsync_tui.bench.resume_cut import run_full_speed_resume
    from trainsync_tui.bench.server import NanioServer
    from trainsync_tui.bench.tools import all_tools
    from trainsync_tui.bench.workloads import Context

    trainsync = all_tools()[0]
    assert trainsync.available, trainsync.missing
    dataset = ds.large("large", [48], 50, seed=1)
    ds.generate(dataset, tmp_path / "src")
    server = NanioServer(tmp_path / "s3" / "data")
    server.start()
    try:
        ctx = Context(server, tmp_path / "runs", tmp_path / "logs", timeout=240, seed=8)
        m, figure = run_full_speed_resume(ctx, trainsync, dataset, tmp_path / "src")
    finally:
        server.stop()
    assert m.ok, m.note
    size = figure["size"]
    assert figure["crossed_at_kill"] >= 0.6 * size
    assert 0 < figure["resumed"] == figure["kept_by_cut"] <= figure["crossed_at_kill"]
    assert figure["fetched_by_rerun"] == size - figure["resumed"]


def test_the_issue_17_workloads_run_on_large_only_beside_the_sequence() -> None:
    options = parse(["--workloads", "W7,W8"])
    assert options.workloads == ("W7", "W8")
    assert workloads_for("large", options.workloads) == []  # no tool sequence, only W7/W8
    assert {"W7", "W8"} <= set(parse([]).workloads)


def test_report_judges_the_resumed_upload() -> None:
    result = _result()
    result.extras["upload_resume"] = {
        "share": 0.3,
        "sent_by_rerun": 614 * ds.MiB,
        "size": 2048 * ds.MiB,
        "ok": True,
    }
    label = "| upload cut at 70 %, rerun sends ≤ 0.35 × the file"
    assert f"{label} | 0.30 × (614 of 2048 MiB) | yes |" in markdown(result)
    result.extras["upload_resume"]["share"] = 1.0
    assert f"{label} | 1.00 × (614 of 2048 MiB) | **no** |" in markdown(result)
    result.extras["upload_resume"]["ok"] = False
    assert f"{label} | – | not measured |" in markdown(result)
    assert "W9" in parse([]).workloads


def test_w9_kills_a_real_upload_at_70_percent_and_the_rerun_sends_the_rest(
    tmp_path: Path,
) -> None:
    """W9 at a small size through the real CLI and nanio: the proxy holds the part past
    70 %, the CLI is killed, the rerun's bytes are counted on the wire and the object, its
    MD5 metadata and the manifest are checked (a rerun from byte 0 sends 1.0 ×)."""
    from trainsync_tui.bench.server import NanioServer
    from trainsync_tui.bench.tools import all_tools
    from trainsync_tui.bench.upload_cut import run_upload_resume
    from trainsync_tui.bench.workloads import Context

    trainsync = all_tools()[0]
    assert trainsync.available, trainsync.missing
    server = NanioServer(tmp_path / "s3" / "data")
    server.start()
    try:
        ctx = Context(server, tmp_path / "runs", tmp_path / "logs", timeout=240, seed=8)
        dataset = ds.large("large", [8], 16, seed=1)  # only its name and actor are used
        m, figure = run_upload_resume(ctx, trainsync, dataset, 80 * ds.MiB)
    finally:
        server.stop()
    assert m.ok, m.note
    assert figure["part_size"] == 8 * ds.MiB
    # 10 parts of 8 MiB: 7 fit under 70 % and are in S3 at the kill, 3 are sent again.
    assert figure["kept_in_s3_at_kill"] == figure["resumed"] == 56 * ds.MiB
    assert figure["sent_by_rerun"] == 24 * ds.MiB
    assert figure["share"] == 0.3
    assert m.requests.get("UploadPart") == 3 and m.requests.get("CompleteMultipartUpload") == 1


def test_the_report_names_a_partial_run_as_it_was_typed() -> None:
    from trainsync_tui.bench.runner import _command

    partial = ["--datasets", "large", "--workloads", "W7,W8,W9", "--tools", "trainsync"]
    assert _command(parse(partial)) == (
        "trainsync bench --datasets large --workloads W7,W8,W9 --tools trainsync"
    )
    assert _command(parse(["--quick", "--repeat", "3"])) == "trainsync bench --quick --repeat 3"
    assert _command(parse([])) == "trainsync bench"


def test_the_fleet_workload_measures_sync_and_audit_against_s5cmd() -> None:
    from trainsync_tui.bench.report import target_lines
    from trainsync_tui.bench.tools import Target, Tool, trainsync_audit

    assert "fleet" in parse(["--quick"]).datasets and "W10" in parse([]).workloads
    fleet = build_dataset("fleet", False, 1)
    assert (len(fleet.actors), fleet.count) == (1000, 20_000)
    assert workloads_for("fleet", ("W10",)) == ["W10 up", "W10 no-op"]
    assert workloads_for("fleet", ("W6",)) == []

    target = Target(Path("/r"), "b", None, "http://127.0.0.1:1", Path("/c"))
    audit = trainsync_audit(Tool("trainsync", Path("/bin/trainsync"), lambda b, t: []))
    assert audit.command(target)[:3] == ["/bin/trainsync", "audit", "--all"]

    def m(tool: str, wall: float) -> Measurement:
        return Measurement("fleet", "W10 no-op", tool, 1, 1, wall, wall / 2, 0.1, 10.0, {}, True)

    result = BenchResult(context={})
    result.measurements += [m("trainsync", 3.0), m("trainsync audit", 4.5), m("s5cmd sync", 5.0)]
    lines = "\n".join(target_lines(result))
    assert "| W10 no-op fleet ≤ 0.8 × s5cmd sync | 0.60 | yes |" in lines
    assert "| trainsync audit: W10 no-op fleet ≤ 0.8 × s5cmd sync | 0.90 | **no** |" in lines


def test_report_judges_the_app_on_a_fleet() -> None:
    met = _result()
    met.extras["app_fleet"] = {"actors": 200, "all_shown_s": 2.1, "lines": ["rows 0.40 s"]}
    text = markdown(met)
    label = "| app, 200 actors in sync: every actor's state shown ≤ 3 s after start"
    assert f"{label} | 2.10 s | yes |" in text
    assert "## The app on 200 actors" in text and "rows 0.40 s" in text
    met.extras["app_fleet"]["all_shown_s"] = 3.4
    assert f"{label} | 3.40 s | **no** |" in markdown(met)
    assert "200 actors" not in markdown(_result())


def test_the_app_fleet_measure_opens_the_real_app_on_actors_in_sync() -> None:
    """Through the CLI's sync, nanio and the app under Pilot: every actor ends shown in
    sync, after its row."""
    from trainsync_tui.bench.app_fleet import measure

    figures = measure(actors=3, files=2)
    assert figures.states == {"ok": 3}
    assert 0 < figures.first_rows_s <= figures.all_shown_s
    assert any("every actor's state shown" in line for line in figures.lines)


def test_tools_run_with_compiled_modules_as_a_users_python_does(monkeypatch) -> None:
    """A shell's PYTHONDONTWRITEBYTECODE would make every trainsync run compile its modules
    (an editable install has no .pyc of its own), a cost no pip-installed anchor pays."""
    from trainsync_tui.bench.measure import clean_env

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("AWS_CA_BUNDLE", "/etc/ssl/x.pem")
    env = clean_env({"AWS_REGION": "us-east-1"})
    assert "PYTHONDONTWRITEBYTECODE" not in env and "AWS_CA_BUNDLE" not in env
    assert env["AWS_REGION"] == "us-east-1"


def test_without_nanio_the_bench_and_the_app_fleet_measure_say_so_in_one_line(
    monkeypatch, capsys
) -> None:
    from trainsync_tui.bench import run_bench
    from trainsync_tui.bench.app_fleet import main

    monkeypatch.setitem(sys.modules, "nanio", None)  # `import nanio` raises ImportError
    assert run_bench(["--quick"]) == 2
    assert main(["--actors", "3"]) == 2
    out, err = capsys.readouterr()
    assert out == "trainsync bench needs nanio: pip install 'trainsync[bench]'\n"
    assert err == "app_fleet needs nanio: pip install 'trainsync[bench]'\n"
