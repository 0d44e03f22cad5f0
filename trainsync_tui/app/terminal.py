"""The app's side of the terminal going away: signals (SIGTERM, SIGHUP, SIGINT) and a stdin
that ends (EOF) or breaks (EIO after the SSH session dropped).

Textual's LinuxDriver loops on select() + read() without ever noticing that stdin ended: a
read that returns nothing is skipped and select() reports the fd readable again at once, so
an orphaned app spun at 40–70% CPU forever and kept its sync running. Signals kept their
default action (SIGTERM/SIGHUP killed the process mid-transfer, leaving temp files and a
stale lock behind) — or, under the web driver, only asked the app to exit without cancelling.
Here every one of them becomes a `Hangup` message: the app cancels its tasks through their
CancelTokens and exits; the interpreter then waits for the cancelled sync threads to clean up.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import signal
from codecs import getincrementaldecoder
from typing import TYPE_CHECKING

from textual._xterm_parser import XTermParser
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.drivers.web_driver import WebDriver

from trainsync_tui.app.messages import Hangup

if TYPE_CHECKING:
    from textual.app import App

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


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


class HangupAwareDriver(LinuxDriver):
    """LinuxDriver whose input thread ends, and tells the app, when stdin ends or breaks."""

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
