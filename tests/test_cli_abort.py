"""A second Ctrl-C on a real `trainsync sync` whose transfers hang: one line, exit 130 at once,
and the run in the history as aborted (issue 16, defect 5)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import World
from tests.engine.clitools import ACTOR
from tests.reliability.faultproxy import FaultProxy, Request
from tests.s3server import S3Server
from tests.test_cli_interrupt import run_env, wait_for
from trainsync_tui.engine.s3.lease import LEASE_SUFFIX


class Lines:
    """A process's stderr read on a thread, so a test can wait for a line it prints."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for raw in stream:  # type: ignore[attr-defined]
            with self._changed:
                self.lines.append(raw.decode("utf-8", "replace"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # end of stream
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(text in line for line in self.lines) or "" in self.lines, timeout
            )
        assert found and any(text in line for line in self.lines), (text, self.lines)

    def text(self) -> str:
        self._thread.join(30)
        return "".join(self.lines)


def test_second_ctrl_c_aborts_at_once_with_one_line_and_records_the_run(
    world: World, tmp_path: Path, s3_server: S3Server
) -> None:
    for n in range(8):
        world.put_local(ACTOR, f"c{n:02d}.bin", bytes([n]) * 4096)
    env = run_env(world, tmp_path)
    env["TRAINSYNC_CONCURRENCY"] = "3"

    def uploads(request: Request) -> bool:
        """The files' uploads, and the lease's release: held as by a network gone away."""
        if request.method == "PUT":
            return "/training_data/" in request.target  # not the lease's own PUT
        return request.method == "DELETE" and LEASE_SUFFIX in request.target

    # Every upload's answer is held for 40 s, and so is the lease's release: the cancel
    # closes the uploads, then waits up to a second for the release, where the second
    # Ctrl-C lands (it came before the uploads were closed too, before the lease was taken
    # through the run's client, which the first Ctrl-C now closes at once).
    with FaultProxy(s3_server.port, {"stall": 1.0}, stall_seconds=40, applies=uploads) as proxy:
        flags = ["--root", str(world.root), "--bucket", world.bucket, "--endpoint-url", proxy.url]
        proc = subprocess.Popen(
            [sys.executable, "-m", "trainsync_tui", "sync", ACTOR, *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        err = Lines(proc.stderr)
        wait_for(lambda: proxy.counts["stall"] >= 1, proc, "an upload to be held")
        proc.send_signal(signal.SIGINT)
        err.wait_for("cancelling")
        proc.send_signal(signal.SIGINT)
        # Well inside the 40 s hold: the abort does not wait for the held uploads.
        code = proc.wait(timeout=20)
        out = proc.stdout.read() if proc.stdout else b""
        text = err.text()

    assert code == 130, (out, text)
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[-1] == "trainsync: aborted", lines
    assert [line for line in lines if "cancelling" not in line] == ["trainsync: aborted"], lines
    history = (world.root / ".trainsync" / "history.jsonl").read_text().splitlines()
    assert len(history) == 1, history
    entry = json.loads(history[0])
    assert entry["actor"] == ACTOR
    assert entry["aborted"] is True and entry["cancelled"] is True
    assert entry["via"] == "trainsync cli" and "@" in entry["who"]
