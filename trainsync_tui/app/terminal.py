"""The app's side of the terminal going away: signals (SIGTERM, SIGHUP, SIGINT) and a stdin
that ends (EOF) or breaks (a hung-up terminal after the SSH session dropped).

Textual's LinuxDriver loops on select() + read() without ever noticing that stdin ended: a
read that returns nothing is skipped and select() reports the fd readable again at once, so
an orphaned app spun at 40–70% CPU forever and kept its sync running. Signals kept their
default action (SIGTERM/SIGHUP killed the process mid-transfer, leaving temp files and a
stale lock behind) — or, under the web driver, only asked the app to exit without cancelling.
Here every one of them becomes a `Hangup` message: the app cancels its tasks through their
CancelTokens and exits; the interpreter then waits for the cancelled sync threads to clean up.
Textual's own input thread keeps reading the keys; `StdinWatchdog` beside it only watches
stdin (it never reads it) and, once stdin is gone, stops that thread and posts the `Hangup`.

Output has the same problem in the other direction (textual 8.2): Textual's writer thread
dies on the first write to a hung-up terminal (EIO), its 30-slot queue fills, and the app's
shutdown then waits for ever to put its stop marker in it (`tmux kill-session` during a
download). And the SIGCONT the kernel sends with the hangup makes LinuxDriver restart
application mode on the dead terminal. `TerminalOutput` replaces the writer: it survives a
broken terminal, and stopping it waits a bounded time.

Only public Textual API: Driver.send_message, LinuxDriver's public methods and its
`fileno` / `input_tty` / `exit_event` attributes.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import select
import signal
import stat
import struct
import sys
import termios
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.drivers.web_driver import WebDriver

from trainsync_tui.app.glyphs import for_terminal, to_ascii
from trainsync_tui.app.messages import Hangup

if TYPE_CHECKING:
    from textual.app import App

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
QUEUED_WRITES = 30  # as Textual's writer: a stalled terminal slows the app, not its memory
STOP_SECONDS = 0.5  # what a stalled terminal may delay the exit by
FILE_POLL_MS = 100  # a stdin that is a file has no hangup to wait for: look this often
DRAIN_MS = 20  # a closed pipe still holding keys: let Textual's reader take them first
GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL  # poll() reports them unasked


def install_signal_handlers(app: App[int]) -> list[int]:
    """Turn SIGTERM/SIGHUP/SIGINT into a `Hangup` message; returns the signals installed."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in SIGNALS:
        try:
            loop.add_signal_handler(signum, _post_hangup, app, signum)
        except (ValueError, RuntimeError, NotImplementedError):
            continue  # not the main thread, or no signals here: the defaults stay
        installed.append(signum)
    return installed


def _post_hangup(app: App[int], signum: int) -> None:
    app.post_message(Hangup(signal.Signals(signum).name, 128 + signum))  # the shell's code


def remove_signal_handlers(signums: list[int]) -> None:
    loop = asyncio.get_running_loop()
    for signum in signums:
        loop.remove_signal_handler(signum)


def hangup_aware(driver: type[Driver]) -> type[Driver]:
    """The driver to use instead of the one Textual chose (from TEXTUAL_DRIVER or the OS)."""
    return {LinuxDriver: HangupAwareDriver, WebDriver: HangupAwareWebDriver}.get(driver, driver)


class HangupAwareWebDriver(WebDriver):
    """Under textual-serve: when the server goes away (stdin ends), the app goes too."""

    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set():
            self.send_message(Hangup("web server gone (input closed)", 129))


class TerminalOutput(threading.Thread):
    """Writes the app's output to the terminal from a thread. Once the terminal is gone
    (a write fails) everything further is dropped, and nothing ever waits on it for long."""

    def __init__(self, fd: int, encoding: str, *, ascii: bool = False) -> None:
        super().__init__(daemon=True, name="trainsync-output")
        self.fd = fd
        self.encoding = encoding
        self.ascii = ascii  # a terminal that is not UTF-8: nothing else reaches it
        self.lost = threading.Event()
        self._queue: queue.Queue[str | None] = queue.Queue(QUEUED_WRITES)

    def write(self, text: str) -> None:
        while not self.lost.is_set() and self.is_alive():
            try:
                self._queue.put(text, timeout=0.1)
                return
            except queue.Full:
                continue  # the terminal is slow (backpressure) or about to be found lost

    def run(self) -> None:
        # os.write, not sys.stderr: a daemon thread blocked inside a buffered file's lock
        # makes the interpreter abort at exit ("could not acquire lock ... at shutdown").
        try:
            while (text := self._queue.get()) is not None:
                data = (to_ascii(text) if self.ascii else text).encode(self.encoding, "replace")
                while data:
                    data = data[os.write(self.fd, data) :]
        except OSError:  # EIO: hung up; the queue is never waited on again
            self.lost.set()

    def stop(self) -> None:
        deadline = time.monotonic() + STOP_SECONDS
        while not self.lost.is_set() and self.is_alive() and time.monotonic() < deadline:
            try:
                self._queue.put(None, timeout=0.05)
                break
            except queue.Full:
                continue
        self.join(max(0.0, deadline - time.monotonic()))


class StdinWatchdog(threading.Thread):
    """Tells `on_gone(reason)`, once, that stdin is gone: a terminal that hung up, an fd
    that broke, a pipe or a file that ended. It never reads stdin (the keys are Textual's):
    poll() reports POLLHUP/POLLERR/POLLNVAL without being asked, so it waits for them with
    no POLLIN in its mask and no timeout, and costs nothing while the terminal lives."""

    def __init__(self, fd: int, on_gone: Callable[[str], None]) -> None:
        super().__init__(daemon=True, name="trainsync-stdin-watch")
        self.fd = fd
        self.on_gone = on_gone
        self.mode = _mode(fd)
        self.tty = os.isatty(fd)  # asked now: a hung-up terminal no longer says it is one
        self._wake_read, self._wake_write = os.pipe()  # stop() wakes poll() at once
        self._wake_fds: tuple[int, ...] = (self._wake_read, self._wake_write)
        self._waker = select.poll()
        self._waker.register(self._wake_read, select.POLLIN)

    def run(self) -> None:
        poller = select.poll()
        poller.register(self.fd, 0)
        poller.register(self._wake_read, select.POLLIN)
        timeout = FILE_POLL_MS if self.mode is not None and stat.S_ISREG(self.mode) else None
        revents = 0
        while not (reason := self._gone(revents)):
            ready = dict(poller.poll(timeout))
            if self._wake_read in ready:
                return
            revents = ready.get(self.fd, 0)
            if not revents & GONE:
                continue
            if not self.tty and _unread(self.fd):  # keys piped in before the writer closed
                if self._waker.poll(DRAIN_MS):  # Textual's reader takes them first
                    return
                revents = 0
        self.on_gone(reason)

    def _gone(self, revents: int) -> str:
        mode = self.mode
        if mode is None or revents & select.POLLNVAL:
            return "terminal input closed (stdin is not open)"
        if self.tty:
            return "terminal lost (hung up)" if revents & GONE else ""
        if stat.S_ISREG(mode):  # input from a file: gone once Textual has read it all
            return "terminal input closed" if _at_end(self.fd) else ""
        if stat.S_ISCHR(mode) and _is_null(self.fd):  # `< /dev/null`, nohup: no keys, ever
            return "terminal input closed"
        return "terminal input closed" if revents & GONE else ""

    def stop(self) -> None:
        """Ends the watch at once; a second call does nothing."""
        wake, self._wake_fds = self._wake_fds, ()
        if not wake:
            return
        if self.is_alive():
            os.write(self._wake_write, b"x")
            self.join()
        for fd in wake:
            os.close(fd)


def _mode(fd: int) -> int | None:
    try:
        return os.fstat(fd).st_mode
    except OSError:
        return None


def _is_null(fd: int) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(os.devnull))
    except OSError:
        return False


def _at_end(fd: int) -> bool:
    try:
        return os.lseek(fd, 0, os.SEEK_CUR) >= os.fstat(fd).st_size
    except OSError:
        return True


def _unread(fd: int) -> int:
    """Bytes waiting in a pipe or socket (FIONREAD); 0 when that cannot be known."""
    try:
        answer = fcntl.ioctl(fd, termios.FIONREAD, struct.pack("i", 0))
    except OSError:
        return 0
    return int(struct.unpack("i", answer)[0])


class HangupAwareDriver(LinuxDriver):
    """LinuxDriver that tells the app when stdin ends or breaks, and whose output never
    hangs the app on a terminal that is gone."""

    def __init__(self, app: App[Any], **options: Any) -> None:
        super().__init__(app, **options)
        self._output: TerminalOutput | None = None
        self._watchdog: StdinWatchdog | None = None
        self._input_gone = False  # set once, by whichever thread saw stdin go first
        self._gone_lock = threading.Lock()

    def start_application_mode(self) -> None:
        if self._output is None or not self._output.is_alive():
            out = sys.__stderr__
            assert out is not None
            self._output = TerminalOutput(out.fileno(), out.encoding, ascii=for_terminal().ascii)
            self._output.start()
        super().start_application_mode()
        self._stop_watchdog()  # one from a start that Textual cut short (SIGTTOU, `bg`)
        self._watchdog = StdinWatchdog(self.fileno, self._stdin_gone)
        self._watchdog.start()

    def write(self, data: str) -> None:
        if self._output is not None:
            self._output.write(data)

    def resume_application_mode(self) -> None:
        """After Ctrl-Z and `fg`; not on the SIGCONT that comes with a hangup."""
        if self._output is not None and self._output.lost.is_set():
            return
        if self.input_tty and not os.isatty(self.fileno):  # hung up: tcgetattr fails
            return
        super().resume_application_mode()

    def close(self) -> None:
        self._stop_watchdog()
        if self._output is not None:
            self._output.stop()
        super().close()  # stops Textual's own writer thread, idle since write() is ours

    def run_input_thread(self) -> None:
        try:
            super().run_input_thread()
        except OSError as exc:  # EIO from a hung-up terminal: Textual would panic the app
            self._stdin_gone(f"terminal lost ({exc.strerror})")

    def _stdin_gone(self, reason: str) -> None:
        with self._gone_lock:
            if self._input_gone:
                return
            self._input_gone = True
        # Textual's reader spins on an ended stdin (select says readable, read gives b"")
        # until this is set; disable_input() clears it again for Textual's own teardown.
        self.exit_event.set()
        self.send_message(Hangup(reason, 129))  # as if SIGHUP

    def disable_input(self) -> None:
        self._stop_watchdog()
        if self._input_gone:
            self.exit_event.clear()  # else LinuxDriver skips its teardown (mouse mode off)
        super().disable_input()

    def _stop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None
