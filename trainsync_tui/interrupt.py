"""Ctrl-C (and SIGTERM) around a blocking engine call in the CLI: the first cancels it
cleanly, a second ends the process at once."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")


class Aborted(KeyboardInterrupt):
    """A second Ctrl-C: stop waiting for the cancelled run and end the process at once."""


def run_with_interrupt(job: Callable[[Any], T], cancel: Any) -> T:
    """Run `job(cancel)` in a thread; Ctrl-C cancels it cleanly, a second Ctrl-C raises
    Aborted while the thread may still be finishing (so the caller must not close what the
    thread uses)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(job(cancel))
        except BaseException as exc:
            failure.append(exc)

    interrupted: list[int] = []

    def on_sigint(signum: int, frame: Any) -> None:
        # Marked before anything else: a second signal can run this handler again while the
        # first is still printing, and must then abort, not cancel a second time.
        if interrupted:
            raise Aborted
        interrupted.append(signum)
        print("\ncancelling… (Ctrl-C again to abort at once)", file=sys.stderr, flush=True)
        cancel.cancel()

    thread = threading.Thread(target=target, name="trainsync-run", daemon=True)
    previous = signal.signal(signal.SIGINT, on_sigint)
    previous_term = signal.signal(signal.SIGTERM, on_sigint)
    try:
        thread.start()
        while thread.is_alive():
            thread.join(0.2)
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
    if failure:
        raise failure[0]
    return result[0]


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
