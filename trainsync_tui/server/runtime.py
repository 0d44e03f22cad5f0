"""What the handlers share: one Engine, the threads its blocking calls run in, running work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web

from trainsync_tui.engine.cancel import CancelToken, run_cancellable
from trainsync_tui.engine.errors import CancelledSync
from trainsync_tui.engine.facade import Engine

T = TypeVar("T")

# Three pools, so that one kind of work cannot starve another: syncs hold a thread for
# their whole run; audits and actor look-ups wait on S3 (up to request_deadline when it does
# not answer); local reads (history, lock state) never touch S3 and always answer at once.
_SYNC_THREADS = 32
_S3_THREADS = 8
_LOCAL_THREADS = 4
AUDIT_CONCURRENCY = 4


def _pool(threads: int, name: str) -> Callable[[], ThreadPoolExecutor]:
    return lambda: ThreadPoolExecutor(threads, name)


@dataclass
class Runtime:
    engine: Engine
    sync_pool: ThreadPoolExecutor = field(default_factory=_pool(_SYNC_THREADS, "trainsync-sync"))
    s3_pool: ThreadPoolExecutor = field(default_factory=_pool(_S3_THREADS, "trainsync-s3"))
    local_pool: ThreadPoolExecutor = field(default_factory=_pool(_LOCAL_THREADS, "trainsync-local"))
    running: set[CancelToken] = field(default_factory=set)
    stopping: bool = False
    audit_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(AUDIT_CONCURRENCY)
    )

    async def local(self, job: Callable[[], T]) -> T:
        """A short blocking call that reads local files only, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.local_pool, job)

    async def cancellable(
        self,
        job: Callable[[CancelToken], T],
        *,
        cancel: CancelToken | None = None,
        long: bool = False,
    ) -> T:
        """Run `job(token)` in a thread; cancelling the task or stopping the server cancels it
        (and with it any S3 request it waits on). Every call that may reach S3 goes here.

        engine.cancel.run_cancellable on our pools, registered so the server's shutdown can
        cancel all running work and wait for its clean-up.
        """
        if self.stopping:
            raise CancelledSync("the server is stopping")
        token = cancel or CancelToken()
        pool = self.sync_pool if long else self.s3_pool

        def start(token: CancelToken) -> T:
            token.raise_if_cancelled()  # cancelled while it queued for a thread: never starts
            return job(token)

        self.running.add(token)
        try:
            return await run_cancellable(start, cancel=token, executor=pool)
        finally:
            self.running.discard(token)

    def cancel_all(self) -> None:
        """Shutdown: nothing new starts; what runs is cancelled and ends its clean-up."""
        self.stopping = True
        for token in list(self.running):
            token.cancel()

    def close(self) -> None:
        self.cancel_all()
        for pool in (self.sync_pool, self.s3_pool, self.local_pool):
            pool.shutdown(wait=True)
        self.engine.close()


RUNTIME = web.AppKey("runtime", Runtime)


def runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]
