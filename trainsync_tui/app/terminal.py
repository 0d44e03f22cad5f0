"""The app's side of the terminal going away: signals (SIGTERM, SIGHUP, SIGINT) and a stdin
that ends (EOF) or breaks (EIO after the SSH session dropped).

Textual's LinuxDriver loops on select() + read() without ever noticing that stdin ended: a
read that returns nothing is skipped and select() reports the fd readable again at once, so
an orphaned app spun at 40–70% CPU forever and kept its sync running. Signals kept their
default action (SIGTERM/SIGHUP killed the process mid-transfer, leaving temp files and a
stale lock behind) — or, under the web driver, only asked the app to exit without cancelling.
Here every one of them becomes a `Hangup` message: the app cancels its tasks through their
CancelTokens and exits; the interpreter then waits for the cancelled sync threads to clean up.

Output has the same problem in the other direction (textual 8.2): Textual's writer thread
dies on the first write to a hung-up terminal (EIO), its 30-slot queue fills, and the app's
shutdown then waits for ever to put its stop marker in it (`tmux kill-session` during a
download). And the SIGCONT the kernel sends with the hangup makes LinuxDriver restart
application mode on the dead terminal. `TerminalOutput` replaces the writer: it survives a
broken terminal, and stopping it waits a bounded time.
"""

from __future__ import annotations

import asyncio
import os
import queue
import selectors
import signal
import sys
import threading
import time
from codecs import getincrementaldecoder
from typing import TYPE_CHECKING

from textual._xterm_parser import XTermParser
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
            self._app.post_message(Hangup("web server gone (input closed)", 129))


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


class HangupAwareDriver(LinuxDriver):
    """LinuxDriver whose input thread ends, and tells the app, when stdin ends or breaks,
    and whose output never hangs the app on a terminal that is gone."""

    _output: TerminalOutput | None = None

    def start_application_mode(self) -> None:
        if self._output is None or not self._output.is_alive():
            out = sys.__stderr__
            assert out is not None
            self._output = TerminalOutput(out.fileno(), out.encoding, ascii=for_terminal().ascii)
            self._output.start()
        super().start_application_mode()

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
        if self._output is not None:
            self._output.stop()
        super().close()  # stops Textual's own writer thread, idle since write() is ours

    def run_input_thread(self) -> None:
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        reason = ""
        try:
            while not self.exit_event.is_set() and not reason:
                for _key, mask in selector.select(0.1):
                    if not mask & selectors.EVENT_READ:
                        continue
                    try:
                        data = os.read(self.fileno, 1024 * 4)
                    except OSError as exc:  # EIO: the terminal hung up
                        reason = f"terminal lost ({exc.strerror})"
                        break
                    if not data:
                        reason = "terminal input closed"
                        break
                    for event in parser.feed(decode(data)):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
        finally:
            selector.close()
        if reason and not self.exit_event.is_set():
            self._app.post_message(Hangup(reason, 129))  # as if SIGHUP
