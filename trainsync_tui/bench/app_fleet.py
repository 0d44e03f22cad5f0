"""The app opened on a fleet: actors all in sync, hash cache warm from the sync that filled
S3, as a user reopens it. Times, from the app's start, the actors' first rows and the moment
every actor's state is shown (issue 23: 200 actors ≤ 3 s).
`python -m trainsync_tui.bench.app_fleet [--actors 200] [--files 20] [--json]`.

Needs nanio (the `bench` extra): the same loopback S3 the rest of the bench uses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trainsync_tui.bench import datasets as ds
from trainsync_tui.bench.server import NanioServer, nanio_missing
from trainsync_tui.engine.config import Settings

BUCKET = "app-fleet"
# Past this the app is not "slow" but stuck: the measure ends with a one-line error.
_GIVE_UP_S = 300.0


@dataclass
class FleetFigures:
    actors: int
    files_each: int
    first_rows_s: float = 0.0  # the local actors listed (before S3 has answered)
    all_shown_s: float = 0.0  # every actor's audited state shown
    states: dict[str, int] = field(default_factory=dict)  # status -> actors, at the end
    lines: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def prepare(
    root: Path, cache: Path, server: NanioServer, actors: int, files: int, seed: int
) -> Settings:
    """The tree and the bucket in sync, through the CLI as a user would have run it."""
    ds.generate(ds.actors("app-fleet", actors, files, seed), root)
    server.create_bucket(BUCKET)
    settings = Settings(root=root, bucket=BUCKET, endpoint_url=server.url, cache_dir=cache)
    command = [sys.executable, "-m", "trainsync_tui", "sync", "--all", "--root", str(root)]
    command += ["--bucket", BUCKET, "--endpoint-url", server.url, "--json", "--no-progress"]
    env = {**os.environ, "TRAINSYNC_CACHE_DIR": str(cache)}  # the app's cache, warmed here
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"app_fleet: the sync that fills S3 failed: {done.stderr.strip()}")
    return settings


async def measure_app(settings: Settings, figures: FleetFigures) -> None:
    from trainsync_tui.app.app import TrainsyncApp
    from trainsync_tui.app.tasks import ActorStatus

    begun = time.perf_counter()
    app = TrainsyncApp(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        states = app.main.states

        def shown() -> bool:
            return len(states) == figures.actors and all(
                not s.status.busy and s.status != ActorStatus.NEVER for s in states.values()
            )

        while len(states) < figures.actors:
            await _tick(pilot, begun, "the actors' rows")
        figures.first_rows_s = round(time.perf_counter() - begun, 2)
        while not shown():
            await _tick(pilot, begun, "every actor's state")
        figures.all_shown_s = round(time.perf_counter() - begun, 2)
        figures.states = dict(Counter(str(state.status) for state in states.values()))
        await app.workers.wait_for_complete()
    figures.lines += [
        f"{figures.actors} actors × {figures.files_each} files, in sync, warm hash cache",
        f"actors' rows shown:          {figures.first_rows_s:6.2f} s after start",
        f"every actor's state shown:   {figures.all_shown_s:6.2f} s after start",
        "states: " + ", ".join(f"{k} {v}" for k, v in sorted(figures.states.items())),
    ]


async def _tick(pilot: Any, begun: float, what: str) -> None:
    if time.perf_counter() - begun > _GIVE_UP_S:
        raise SystemExit(f"app_fleet: {what} not shown within {_GIVE_UP_S:.0f} s")
    await pilot.pause(0.01)


def measure(actors: int, files: int, seed: int = 23) -> FleetFigures:
    figures = FleetFigures(actors, files)
    scratch = Path(tempfile.mkdtemp(prefix="trainsync-app-fleet-"))
    server = NanioServer(scratch / "s3")
    server.start()
    # The app in this process reads the credentials from the environment; put back after.
    saved = os.environ.copy()
    try:
        os.environ.update(server.client_env())
        settings = prepare(scratch / "tree", scratch / "cache", server, actors, files, seed)
        asyncio.run(measure_app(settings, figures))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainsync_tui.bench.app_fleet")
    parser.add_argument("--actors", type=int, default=200)
    parser.add_argument("--files", type=int, default=20, help="files in each actor")
    parser.add_argument("--json", action="store_true", help="one JSON object: figures and lines")
    args = parser.parse_args(argv)
    missing = nanio_missing("app_fleet")
    if missing:
        print(missing, file=sys.stderr)
        return 2
    figures = measure(args.actors, args.files)
    print(json.dumps(figures.to_json()) if args.json else "\n".join(figures.lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
