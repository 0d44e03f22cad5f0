"""`trainsync tui` as a real process in a real pseudo-terminal (80×24): SIGTERM, and an SSH
session that drops (SIGHUP + the terminal gone), cancel the running sync through the engine
and end the process within seconds, leaving nothing partial; a stdin that ends does too."""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import AWS_ENV, World
from trainsync_tui.engine.paths import is_temp_name

ACTOR = "0001_big"
EXIT_SECONDS = 10  # generous for a loaded 2-core CI box; it takes ~0.5 s here


class Terminal:
    """The app under a pty sized 80×24; a thread drains its output so it never blocks."""

    def __init__(
        self,
        world: World,
        *,
        stdin_eof: bool = False,
        web: bool = False,
        actor: str = ACTOR,
        locale: str = "C.UTF-8",
    ) -> None:
        self.master, slave = os.openpty()
        self._stop = threading.Event()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = dict(
            os.environ,
            **AWS_ENV,
            TERM="xterm",
            COLUMNS="80",
            LINES="24",
            NO_COLOR="1",
            LANG=locale,
        )
        for name in ("LC_ALL", "LC_CTYPE"):
            env.pop(name, None)
        env.pop("TEXTUAL_DRIVER", None)
        if web:  # what textual-serve (`trainsync web`) runs per browser tab
            env["TEXTUAL_DRIVER"] = "textual.drivers.web_driver:WebDriver"
        stdin = slave
        if stdin_eof:
            stdin, write_end = os.pipe()
            os.close(write_end)
        command = [
            sys.executable,
            "-m",
            "trainsync_tui",
            "tui",
            *([actor] if actor else []),
            *world.cli_flags(),
            "--concurrency",
            "1",
        ]
        self.proc = subprocess.Popen(
            command,
            stdin=stdin,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            # The pty is the session's controlling terminal, as under tmux or sshd: closing
            # its master hangs it up (SIGHUP from the kernel, EIO on reads and writes).
            preexec_fn=None if stdin_eof else _take_terminal,
        )
        os.close(slave)
        if stdin_eof:
            os.close(stdin)
        self.output = bytearray()
        self._changed = threading.Condition()

        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.05)
                data = os.read(self.master, 65536) if ready else b"-"
            except OSError:
                data = b""
            if data == b"-":
                if self._stop.is_set():
                    return
                continue
            with self._changed:
                if not data:
                    self._changed.notify_all()
                    return
                self.output += data
                self._changed.notify_all()

    def wait_for_text(self, text: bytes, timeout: float = 60) -> None:
        with self._changed:
            ok = self._changed.wait_for(lambda: text in self.output, timeout)
        assert ok, f"{text!r} never drawn; exit code {self.proc.poll()}"

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def hang_up(self) -> None:
        """What sshd does when the connection drops: SIGHUP, and the terminal is gone."""
        self.proc.send_signal(signal.SIGHUP)
        os.close(self.master)

    def close(self) -> None:
        """What `tmux kill-session` does: the terminal's master side goes away, nothing else
        (the drain thread stops first: a read blocked on the fd would keep it open)."""
        self._stop.set()
        self._drainer.join()
        os.close(self.master)

    def wait_exit(self) -> tuple[int, float]:
        start = time.monotonic()
        try:
            code = self.proc.wait(EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"the app did not exit within {EXIT_SECONDS} s")
        return code, time.monotonic() - start


def _take_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def wait_for_line(path: Path, text: str, timeout: float = 90) -> None:
    """Poll the app's log file (another process writes it) until `text` shows up."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text(errors="replace")):
        assert time.monotonic() < deadline, f"{text!r} never logged in {path}"
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["SIGTERM", "ssh drop"])
def test_a_signal_mid_sync_cancels_it_cleanly_and_exits(world: World, how: str) -> None:
    blob = bytes(range(256)) * 256  # 64 KiB
    for n in range(150):
        world.put_s3(ACTOR, f"frames/{n:04}.bin", blob)
    term = Terminal(world)
    term.wait_for_text(ACTOR.encode())
    term.send(b"s")
    log = world.settings.state_dir / "logs" / "app.log"
    wait_for_line(log, "downloaded")
    if how == "SIGTERM":
        term.proc.send_signal(signal.SIGTERM)
    else:
        term.hang_up()
    code, _ = term.wait_exit()
    assert code == (143 if how == "SIGTERM" else 129)  # 128 + the signal, as a shell reports
    history = world.engine().history(ACTOR)
    assert history and history[0].cancelled is True  # the engine's cancel ran to its end
    local = world.local_paths(ACTOR)
    assert len(local) < 150  # stopped part way
    for path in local:  # every file whole, no temp file in training_data
        assert world.read_local(ACTOR, path) == blob
    leftovers = [p for p in world.actor_dir(ACTOR).rglob("*") if is_temp_name(p.name)]
    assert leftovers == []
    staging = world.actor_dir(ACTOR) / ".trainsync" / "tmp"
    assert not staging.exists() or not any(staging.iterdir())
    manifest = json.loads((world.actor_dir(ACTOR) / "manifest.json").read_text())
    assert set(manifest["files"]) <= set(local)
    engine = world.engine()
    assert engine.lock_holder(engine.actor(ACTOR)) is None
    assert "quitting" in log.read_text()


@pytest.mark.parametrize("web", [False, True], ids=["terminal", "web driver"])
def test_stdin_that_ends_makes_the_app_exit(world: World, web: bool) -> None:
    """Textual's terminal driver loops on an ended stdin at 40-70% CPU forever; the web
    driver's app outlived its server (nothing left to draw to)."""
    world.put_s3(ACTOR, "a.bin", b"a")
    term = Terminal(world, stdin_eof=True, web=web)
    code, _ = term.wait_exit()
    assert code == 129
    log = world.settings.state_dir / "logs" / "app.log"
    wait_for_line(log, "web server gone" if web else "terminal input closed", 10)


def test_with_no_actor_the_keys_reach_the_app_not_the_hidden_filter(world: World) -> None:
    """Only a real terminal showed it: the hidden filter Input had the focus, so ? and q
    typed into it and the app looked hung to a user who got the configuration wrong."""
    term = Terminal(world, actor="")
    term.wait_for_text(b"no actors")
    term.send(b"?")
    term.wait_for_text(b"What it does")
    term.send(b"?q")  # ? closes the help (a lone escape byte would read as alt+q here)
    code, _ = term.wait_exit()
    assert code == 0


def test_a_closed_terminal_mid_download_ends_the_app_every_time(world: World) -> None:
    """tmux kill-session during a download left the app alive for ever: Textual's output
    thread died on the dead terminal, its full queue blocked the shutdown. 20 tries."""
    blob = os.urandom(8 * 1024 * 1024)
    for n in range(30):
        world.put_s3(ACTOR, f"frames/{n:02}.bin", blob)
    for n in range(40):  # audited meanwhile: the screen keeps changing
        world.put_local(f"{n + 2:04}_other", "a.txt", b"a")
    log = world.settings.state_dir / "logs" / "app.log"
    exits: list[float] = []
    for attempt in range(20):
        shutil.rmtree(world.actor_dir(ACTOR), ignore_errors=True)
        log.unlink(missing_ok=True)
        term = Terminal(world)
        term.wait_for_text(ACTOR.encode())
        term.send(b"s")
        wait_for_line(log, "downloaded")  # one file done, the next ones under way
        term.close()
        code, seconds = term.wait_exit()
        exits.append(seconds)
        assert code == 129, f"try {attempt}: exit code {code}"
        wait_for_line(log, "cancelled", 1)  # written before the process ended
        leftovers = [p for p in world.actor_dir(ACTOR).rglob("*") if is_temp_name(p.name)]
        assert leftovers == [], f"try {attempt}"
        local = world.local_paths(ACTOR)
        assert len(local) < 30, f"try {attempt}: the download was not under way"
        assert all(world.read_local(ACTOR, path) == blob for path in local)
    exits.sort()
    print(f"exit after the terminal closed: median {exits[10]:.2f} s, max {exits[-1]:.2f} s")
