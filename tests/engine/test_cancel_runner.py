"""engine/cancel.run_in_thread, the CLI's way to run a blocking engine call (issue 16: one
runner): the waiting thread takes signals, whose handler may cancel the call cleanly."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from trainsync_tui.engine.cancel import CancelToken, run_in_thread
from trainsync_tui.engine.errors import CancelledSync


def test_a_signal_while_waiting_runs_its_handler_which_cancels_the_call() -> None:
    cancel = CancelToken()

    def job(token: CancelToken) -> str:
        os.kill(os.getpid(), signal.SIGUSR1)  # handled by the main thread, which waits
        assert token.wait(30), "the handler never ran while the main thread waited"
        return "stopped"

    previous = signal.signal(signal.SIGUSR1, lambda *_: cancel.cancel())
    try:
        assert run_in_thread(job, cancel) == "stopped"
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_the_calls_error_is_raised_in_the_caller() -> None:
    def job(token: CancelToken) -> Any:
        token.raise_if_cancelled()

    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(CancelledSync):
        run_in_thread(job, cancel)
