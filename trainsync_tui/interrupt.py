"""Ctrl-C (and SIGTERM) around a blocking engine call in the CLI: the first cancels it
cleanly, a second ends the process at once."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from trainsync_tui.engine.cancel import CancelToken, run_in_thread

T = TypeVar("T")


class Aborted(KeyboardInterrupt):
    """A second Ctrl-C: stop waiting for the cancelled run and end the process at once."""


def run_with_interrupt(job: Callable[[CancelToken], T], cancel: CancelToken) -> T:
    """Run `job(cancel)` through the engine's runner; Ctrl-C cancels it cleanly, a second
    Ctrl-C raises Aborted while the thread may still be finishing (so the caller must not
    close what the thread uses).

    The signal handling stays here, not in engine/cancel.py: only a CLI in the main thread
    owns SIGINT/SIGTERM, and only it may give up on a run and end the process (the app and
    the API cancel, then wait for the clean-up)."""
    interrupted: list[int] = []

    def on_sigint(signum: int, frame: Any) -> None:
        # Marked before anything else: a second signal can run this handler again while the
        # first is still printing, and must then abort, not cancel a second time.
        if interrupted:
            raise Aborted
        interrupted.append(signum)
        print("\ncancelling… (Ctrl-C again to abort at once)", file=sys.stderr, flush=True)
        cancel.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    previous_term = signal.signal(signal.SIGTERM, on_sigint)
    try:
        return run_in_thread(job, cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)


def exit_aborted(json_output: bool) -> NoReturn:
    """End now, like kill -9 (which every sync recovers from: temp files, multipart uploads
    and the lock are cleaned up by the next run), without joining the cancelled run's
    transfer threads, which may wait on the network."""
    if json_output:
        print(json.dumps({"error": "aborted", "cancelled": True}))
    print("trainsync: aborted", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)
