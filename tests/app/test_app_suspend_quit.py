"""Issue 25 item 7 in a real pseudo-terminal: Ctrl-Z stops the process as a shell's job
control expects (SIGCONT, what `fg` sends, brings the screen back), and `q` during the demo's
"preparing…" ends the app at once instead of after the set-up's seconds."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from tests.app.conftest import FakeSchedule, settle, wait_for
from tests.app.test_app_signals import ACTOR, Terminal
from tests.conftest import World
from trainsync_tui.app.app import TrainsyncApp
from trainsync_tui.app.widgets.discrepancy_tree import DiscrepancyTree
from trainsync_tui.app.widgets.log_pane import LogPane
from trainsync_tui.demo import BackgroundSetup

DEADLINE = 60  # for a loaded 2-core box; each wait ends as soon as its condition holds


def process_state(pid: int) -> str:
    """The kernel's one-letter state of a process: "T" once it is stopped (SIGTSTP/SIGSTOP)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


def wait_until(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_z_suspends_the_app_and_sigcont_redraws_it(world: World) -> None:
    world.put_s3(ACTOR, "a.bin", b"a")
    term = Terminal(world)
    term.wait_for_text(ACTOR.encode())
    term.send(b"\x1a")  # Ctrl-Z: the app reads it as a key (application mode turns ISIG off)
    wait_until(lambda: process_state(term.proc.pid) == "T", "Ctrl-Z did not stop the app")
    with term._changed:  # what is drawn from here on is the redraw
        drawn = len(term.output)
        assert b"\x1b[?1049l" in term.output  # it left the alternate screen for the shell
    term.proc.send_signal(signal.SIGCONT)  # what `fg` sends
    wait_until(lambda: process_state(term.proc.pid) != "T", "SIGCONT did not resume the app")
    wait_until(lambda: ACTOR.encode() in term.output[drawn:], "the app did not redraw")
    assert b"\x1b[?1049h" in term.output[drawn:]  # back on its own screen
    term.send(b"q")
    code, _ = term.wait_exit()
    assert code == 0


def test_q_draws_stopping_before_the_app_leaves_even_mid_audit(world: World) -> None:
    """Pressed as the app comes up (an audit running): the audit's cancel rewrote the header
    and the tree before the exit, so nothing said the key was taken."""
    for n in range(50):
        world.put_s3(ACTOR, f"frames/{n:03}.bin", b"x")
    term = Terminal(world)
    term.wait_for_text(ACTOR.encode())
    with term._changed:
        drawn = len(term.output)
    term.send(b"q")
    wait_until(lambda: b"stopping" in term.output[drawn:], "q drew nothing")
    with term._changed:
        left = term.output.find(b"\x1b[?1049l", drawn)
        assert left < 0 or term.output.find(b"stopping", drawn) < left  # before leaving
    code, _ = term.wait_exit()
    assert code == 0


def test_q_while_the_demo_prepares_exits_before_the_set_up_ends(tmp_path: Path) -> None:
    """The set-up (moto's import, the sample uploads) took 4.4 s after q, with nothing shown."""
    folder = tmp_path / "demo"
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, TERM="xterm", NO_COLOR="1", LANG="C.UTF-8")
    command = [sys.executable, "-m", "trainsync_tui", "demo", "--root", str(folder)]
    proc = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    output = bytearray()
    try:
        while b"preparing" not in output:
            ready, _, _ = select.select([master], [], [], DEADLINE)
            assert ready, f"the demo never said it was preparing: {bytes(output[-300:])!r}"
            output += os.read(master, 65536)
        drawn = len(output)
        pressed = time.monotonic()
        os.write(master, b"q")
        while b"stopping" not in output[drawn:]:  # drawn before the app leaves its screen
            ready, _, _ = select.select([master], [], [], DEADLINE)
            assert ready, "q was not answered"
            output += os.read(master, 65536)
        answered = time.monotonic() - pressed
        code = proc.wait(DEADLINE)
        seconds = time.monotonic() - pressed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output += _drain(master)
    os.close(master)
    print(f"q while preparing: stopping… drawn after {answered:.2f} s, exit after {seconds:.2f} s")
    assert code == 0
    # The set-up writes the demo's trainsync.toml last: the app did not wait for it.
    assert not (folder / "trainsync.toml").exists()
    assert b"stopped while preparing" in output


def _drain(fd: int) -> bytes:
    data = b""
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        data += chunk
    return data


async def test_q_while_preparing_ends_the_wait_not_the_set_up(world: World) -> None:
    """The demo's set-up runs in its own daemon thread; the app's worker only waits for it,
    and q (cancelling that worker) ends the wait: nothing at exit waits for the set-up."""
    release, returned = threading.Event(), threading.Event()
    setup = BackgroundSetup(lambda: release.wait(DEADLINE))

    def prepare() -> None:  # in the app's worker thread, as the demo's is
        try:
            setup()
        finally:
            returned.set()

    app = TrainsyncApp(world.settings, schedule=FakeSchedule(), prepare=prepare)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            tree = app.query_one(DiscrepancyTree)
            await wait_for(pilot, lambda: "preparing" in str(tree.root.children[0].label))
            await pilot.press("q")
        assert app.return_code == 0
        assert returned.wait(DEADLINE)  # the worker stopped waiting…
        assert not setup.done.is_set()  # …while the set-up still runs
    finally:
        release.set()


async def test_stopping_is_in_the_logs_view_at_once_even_in_a_full_log(app: TrainsyncApp) -> None:
    # The app leaves the screen right after the next refresh: a line the log scrolls to
    # only after that refresh (RichLog's own scrolling) was never seen.
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        log = app.query_one(LogPane)
        log.add_lines([("info", f"line {n}") for n in range(30)])
        await pilot.pause()
        log.scroll_home(animate=False, immediate=True)

        app.main.stopping()

        assert log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y
        assert "stopping" in log.lines[-1].text
