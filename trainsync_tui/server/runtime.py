"""What the handlers share: one Engine, the threads its blocking calls run in, running syncs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web

from trainsync_tui.engine.api import Engine
from trainsync_tui.engine.cancel import CancelToken, run_cancellable

T = TypeVar("T")

# Syncs hold a thread each for their whole run; a pool of its own keeps a few long syncs
# from starving the short reads (history, lock state) and the audits of GET /api/actors.
_SYNC_THREADS = 32
_READ_THREADS = 8
AUDIT_CONCURRENCY = 4


@dataclass
class Runtime:
    engine: Engine
    sync_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(_SYNC_THREADS, "trainsync-sync")
    )
    read_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(_READ_THREADS, "trainsync-read")
    )
    running: set[CancelToken] = field(default_factory=set)
    audit_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(AUDIT_CONCURRENCY)
    )

    async def read(self, job: Callable[[], T]) -> T:
        """A short blocking call (file reads, one S3 request) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.read_pool, job)

    async def cancellable(
        self,
        job: Callable[[CancelToken], T],
        *,
        cancel: CancelToken | None = None,
        long: bool = False,
    ) -> T:
        """Run `job(token)` in a thread; cancelling the task or stopping the server cancels it.

        engine.api.run_cancellable on our pools, registered so the server's shutdown can
        cancel every running sync and wait for its clean-up.
        """
        token = cancel or CancelToken()
        pool = self.sync_pool if long else self.read_pool
        self.running.add(token)
        try:
            return await run_cancellable(job, cancel=token, executor=pool)
        finally:
            self.running.discard(token)

    def cancel_all(self) -> None:
        for token in list(self.running):
            token.cancel()

    def close(self) -> None:
        self.sync_pool.shutdown(wait=True)
        self.read_pool.shutdown(wait=True)
        self.engine.close()


RUNTIME = web.AppKey("runtime", Runtime)


def runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]
