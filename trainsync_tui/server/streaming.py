"""NDJSON progress for long syncs: events as they come, then the report; a hang-up cancels."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import TrainsyncError
from trainsync_tui.engine.events import ProgressThrottle
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.run.report import SyncReport
from trainsync_tui.server.errors import json_response, status_for
from trainsync_tui.server.runtime import Runtime

NDJSON = "application/x-ndjson"
THROTTLE_SECONDS = 0.25
# How often a quiet stream checks that its client is still there (a long hash or a big
# file can go seconds without an event).
DISCONNECT_POLL_SECONDS = 0.05
_DONE = object()


def wants_ndjson(request: web.Request) -> bool:
    return NDJSON in request.headers.get("Accept", "")


def line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def stream_sync(
    request: web.Request, rt: Runtime, layout: ActorLayout, options: SyncOptions
) -> web.StreamResponse:
    """Run the sync, writing each event as a line and `{"event": "report", …}` last.

    The 200 is sent only once the engine has emitted its first event, so a busy lock or a
    configuration error still gets its own status and JSON error like a plain request.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    throttle = ProgressThrottle(
        lambda event: loop.call_soon_threadsafe(queue.put_nowait, event), THROTTLE_SECONDS
    )
    cancel = CancelToken()

    def job(token: CancelToken) -> SyncReport:
        try:
            return rt.engine.sync(layout, options, cancel=token, sink=throttle)
        finally:
            throttle.flush()

    task = asyncio.ensure_future(rt.cancellable(job, cancel=cancel, long=True))
    task.add_done_callback(lambda _: queue.put_nowait(_DONE))
    first = await queue.get()
    if first is _DONE:
        return json_response(task.result().to_json())  # raises → the JSON error middleware

    # X-Accel-Buffering: a proxy such as nginx must pass lines on as they come.
    response = web.StreamResponse(
        headers={"Content-Type": NDJSON, "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    item = first
    try:
        while item is not _DONE:
            await response.write(line(item.to_json()))
            item = await _next(queue, request)
    except (ConnectionError, asyncio.CancelledError) as exc:
        # The client hung up (or the server is stopping): cancel like the app's cancel and
        # wait for the engine's clean-up before the handler ends.
        cancel.cancel()
        with contextlib.suppress(Exception):
            await task
        if isinstance(exc, asyncio.CancelledError):
            raise
        return response
    await _finish(response, task)
    return response


async def _next(queue: asyncio.Queue[Any], request: web.Request) -> Any:
    while True:
        try:
            return await asyncio.wait_for(queue.get(), DISCONNECT_POLL_SECONDS)
        except TimeoutError:
            if _gone(request):
                raise ConnectionResetError("client disconnected") from None


async def _finish(response: web.StreamResponse, task: asyncio.Future[SyncReport]) -> None:
    try:
        report = task.result()
    except TrainsyncError as exc:
        last = {"event": "error", "status": status_for(exc), "error": exc.message}
    except Exception as exc:
        last = {"event": "error", "status": 500, "error": f"internal error ({type(exc).__name__})"}
    else:
        last = {"event": "report", **report.to_json()}
    with contextlib.suppress(ConnectionError):
        await response.write(line(last))
        await response.write_eof()
