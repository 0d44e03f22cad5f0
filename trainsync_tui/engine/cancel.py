"""One cancel mechanism for threads and tasks: a token the engine checks where it can stop,
and the one way a front end runs a blocking engine call with it: `run_cancellable` (asyncio:
the app's workers, the API) or `run_in_thread` (the CLI's main thread)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent import futures
from typing import TypeVar

from trainsync_tui.engine.errors import CancelledSync

T = TypeVar("T")


class CancelToken:
    """Set once by a front end; checked by scan loops, transfer schedulers and workers."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledSync()

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds; True when cancelled meanwhile."""
        return self._event.wait(timeout)

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` on cancel (at once if already cancelled); returns an unregister."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)

                def unregister() -> None:
                    with self._lock:
                        if callback in self._callbacks:
                            self._callbacks.remove(callback)

                return unregister
        callback()
        return lambda: None


# How long the waiting thread sleeps between looks: Python runs a signal handler in the main
# thread only between these waits (a plain join would hold Ctrl-C until the run ends).
WAIT_SLICE_SECONDS = 0.2


def run_in_thread(
    job: Callable[[CancelToken], T], cancel: CancelToken, *, name: str = "trainsync-run"
) -> T:
    """Run a blocking engine call in its own thread and wait for it, in short slices, so the
    caller's signal handlers run meanwhile: one that cancels `cancel` stops the call cleanly,
    one that raises stops the waiting (the thread, a daemon, may still be finishing: the
    caller must not close what it uses). The call's exception is raised here."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(job(cancel))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(WAIT_SLICE_SECONDS)
    if failure:
        raise failure[0]
    return result[0]


async def run_cancellable(
    job: Callable[[CancelToken], T],
    *,
    cancel: CancelToken | None = None,
    executor: futures.Executor | None = None,
) -> T:
    """Run a blocking engine call in a thread; task cancellation sets its CancelToken."""
    import asyncio  # here: the CLI never needs it, and it is ~20 ms of every start

    cancel = cancel or CancelToken()
    future = asyncio.get_running_loop().run_in_executor(executor, job, cancel)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        cancel.cancel()
        # Wait for the thread to finish its clean-up (temp files, manifest) before we go.
        with contextlib.suppress(Exception):
            await future
        raise
