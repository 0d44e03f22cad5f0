"""Run one hostile case and check the promises: a clear per-path error, nothing written
outside the actor's folders, nothing already there lost, the rest of the actor synced."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import World
from tests.reliability.hostile_cases import CASES, Case
from tests.reliability.rig import (
    ACTOR,
    PART,
    cli_env,
    history_text,
    leaked_secrets,
    md5,
    new_world,
    tree_outside,
)
from trainsync_tui.engine.events import Event, FileStarted
from trainsync_tui.engine.facade import Engine, SyncOptions
from trainsync_tui.engine.paths import TEMP_PREFIX

# Root reads mode-000 files; root without capabilities does not (it is then only the
# owner, whose permission bits are all 0), and still runs the venv under /root.
DROP_CAPS = ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]


@dataclass
class HostileRun:
    name: str
    group: str
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside: int = 0
    lost: int = 0
    leaks: list[str] = field(default_factory=list)
    skipped: str = ""


def _snapshot_files(top: Path) -> dict[str, str]:
    """MD5 of every regular file below `top` that we can read (links are not followed)."""
    found: dict[str, str] = {}
    for folder, _dirs, files in os.walk(top):
        for name in files:
            full = os.path.join(folder, name)
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            with contextlib.suppress(OSError), open(full, "rb") as handle:
                found[os.path.relpath(full, top)] = md5(handle.read())
    return found


def _s3_state(world: World) -> dict[str, str]:
    return {
        o["Key"]: o["ETag"]
        for page in world.s3.get_paginator("list_objects_v2").paginate(Bucket=world.bucket)
        for o in page.get("Contents", [])
    }


def _innocent_work(world: World) -> None:
    world.put_local(ACTOR, "innocent/up.bin", b"upload me")
    world.put_s3(ACTOR, "innocent/down.bin", b"download me")
    world.put_in_sync(ACTOR, {"innocent/kept.bin": b"in sync"})


def _run_cli(world: World, base: Path, case: Case, args: list[str]) -> tuple[int, str, str]:
    flags = ["--root", str(world.root), "--bucket", world.bucket, "--endpoint-url", world.url]
    command = [*args, "--json", "-v", *flags]
    if not case.unprivileged and case.fsize is None:
        from trainsync_tui.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(command)
        return code, out.getvalue(), err.getvalue()

    def limits() -> None:
        if case.fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (case.fsize, case.fsize))

    env = cli_env(world, base)
    prefix = DROP_CAPS if case.unprivileged and os.getuid() == 0 else []
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "trainsync_tui", *command],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        preexec_fn=limits,
    )
    return done.returncode, done.stdout, done.stderr


def _run_engine(world: World, case: Case) -> tuple[int, str, str]:
    settings = dataclasses.replace(
        world.settings, multipart_threshold=PART, multipart_chunksize=PART
    )

    def sink(event: Event) -> None:
        if isinstance(event, FileStarted) and case.during is not None:
            case.during(event.path)

    engine = Engine(settings)
    try:
        report = engine.sync(engine.actor(ACTOR), SyncOptions(), sink=sink)
    finally:
        engine.close()
    return report.exit_code, json.dumps(report.to_json()), ""


def run_case(name: str, server_url: str, base: Path) -> HostileRun:
    group, build = CASES[name]
    run = HostileRun(name, group)
    world = new_world(server_url, base)
    world.settings = dataclasses.replace(world.settings, cache_dir=base / "cache")
    _innocent_work(world)
    case = build(world, base)
    if case.unprivileged and os.getuid() == 0 and not shutil.which("setpriv"):
        case.skip = "running as root without setpriv: cannot make a file unreadable"
    if case.skip:
        run.skipped = case.skip
        return run
    try:
        _check(world, base, case, run)
    finally:
        if case.cleanup is not None:
            case.cleanup()
        for folder, dirs, _files in os.walk(world.root):  # let the test clean up after itself
            for d in dirs:
                os.chmod(os.path.join(folder, d), 0o755)
    return run


def _check(world: World, base: Path, case: Case, run: HostileRun) -> None:
    actor_dir = world.actor_dir(ACTOR)
    outside_before = tree_outside(base, [actor_dir])
    local_before = _snapshot_files(actor_dir / "training_data")
    s3_before = _s3_state(world)
    if case.cli is not None or case.unprivileged or case.fsize is not None:
        code, out, err = _run_cli(world, base, case, case.cli or ["sync", ACTOR])
    else:
        code, out, err = _run_engine(world, case)
    try:
        report = json.loads(out)
    except ValueError:
        report = {}
        run.problems.append(f"stdout is not JSON: {out[:300]!r}")
    if isinstance(report, dict) and ACTOR in report and isinstance(report[ACTOR], dict):
        report = report[ACTOR]  # --all: one object per actor
    run.errors = list(report.get("errors") or []) + ([report["error"]] if "error" in report else [])
    if code != case.code:
        run.problems.append(f"exit code {code}, expected {case.code}: {run.errors}")
    hints = (case.hint,) if isinstance(case.hint, str) else case.hint
    if case.hint and not any(all(h in e for h in hints) for e in run.errors):
        run.problems.append(f"no error mentions {case.hint!r}: {run.errors}")
    if "Traceback" in err:
        run.problems.append("a traceback on stderr")
    outside_after = tree_outside(base, [actor_dir])
    changed = {
        p
        for p in outside_before.keys() | outside_after.keys()
        if outside_before.get(p) != outside_after.get(p)
    }
    s3_after = _s3_state(world)
    prefix = world.key(ACTOR, "")
    changed |= {
        k
        for k in s3_before.keys() | s3_after.keys()
        if not k.startswith(prefix) and s3_before.get(k) != s3_after.get(k)
    }
    run.outside = len(changed)
    for folder in (actor_dir / "training_data", actor_dir / ".trainsync" / "tmp"):
        temps = [p.name for p in folder.rglob(f"{TEMP_PREFIX}*")] if folder.is_dir() else []
        run.problems += [f"temp file left: {folder.name}/{t}" for t in temps]
    run.problems += [f"written outside the actor: {p!r}" for p in sorted(changed)]
    local_after = _snapshot_files(actor_dir / "training_data")
    lost = [p for p, d in local_before.items() if local_after.get(p) != d]
    lost += [
        k
        for k, e in s3_before.items()
        if s3_after.get(k) != e
        and k not in case.may_be_absent_after
        and not (case.during and k.startswith(prefix))
    ]
    run.lost = len(lost)
    run.problems += [f"lost or changed: {p!r}" for p in lost]
    if case.innocent_synced:
        down = world.local_path(ACTOR, "innocent/down.bin")
        if not down.is_file() or down.read_bytes() != b"download me":
            run.problems.append("the innocent download did not happen")
        if "innocent/up.bin" not in world.s3_paths(ACTOR):
            run.problems.append("the innocent upload did not happen")
    run.leaks = leaked_secrets({"stdout": out, "stderr": err, "history": history_text(world)})
    run.problems += run.leaks
