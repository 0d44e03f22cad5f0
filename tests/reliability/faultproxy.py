"""A fault-injecting HTTP proxy on 127.0.0.1 between boto3 and the loopback S3 server.

boto3 talks to it as its endpoint (path-style addressing, plain HTTP/1.1 with keep-alive).
Each request draws, from a seeded generator, at most one fault:

- ``error500``   answer 500 InternalError without forwarding
- ``slowdown``   answer 503 SlowDown without forwarding
- ``reset``      reset the connection before any response (request not forwarded)
- ``cut``        forward, then send the headers with the full Content-Length and half the
                 body, and close (only responses with a body of 2+ bytes; a GET of an object
                 then fails mid-stream)
- ``stall``      forward, then hold the response for ``stall_seconds`` (shorter than the
                 client's 60 s read timeout, so it slows and never fails)
- ``reset_after`` forward (the server applies the request), then reset: the reply is lost

Counts of every fault injected, per kind, are kept in ``counts``.
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from trainsync_tui.bench.loopback_proxy import (
    LoopbackProxy,
    Request,
    close,
    forward,
    head,
    reset,
    s3_error,
    send,
)

# Request is the subclasses' and the tests' `applies` argument: importable from here too.
__all__ = ["KINDS", "FaultProxy", "Request", "stalling"]

KINDS = ("error500", "slowdown", "reset", "cut", "stall", "reset_after")


@dataclass
class FaultProxy(LoopbackProxy):
    """A threaded proxy; `rates` maps a kind to its probability per request (sum ≤ 1)."""

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    stall_seconds: float = 0.5
    # Which requests may be faulted (e.g. only GETs); None means all.
    applies: Callable[[Request], bool] | None = None
    # The text of injected error bodies; a test makes a careless server that echoes the
    # request (headers, signature, token) with it.
    message: Callable[[Request], str] = lambda _: "injected by faultproxy"
    counts: Counter[str] = field(default_factory=Counter)
    # (method, target) of every request, in arrival order: lets a test see the phase a
    # client process is in from outside it.
    log: list[tuple[str, str]] = field(default_factory=list)
    # The headers of each request in `log`, lower-cased names: what the client signed and sent.
    headers: list[dict[str, str]] = field(default_factory=list)
    name: ClassVar[str] = "faultproxy"

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        super().__post_init__()
        self._rng = random.Random(self.seed)

    # -- control -------------------------------------------------------------------------

    def set_rates(self, rates: dict[str, float]) -> None:
        with self._lock:
            self.rates = dict(rates)

    @property
    def injected(self) -> int:
        """Faults that make a request fail (stalls only slow one down)."""
        return sum(n for kind, n in self.counts.items() if kind not in ("stall", "requests"))

    def _draw(self, request: Request) -> str | None:
        with self._lock:
            self.counts["requests"] += 1
            self.log.append((request.method, request.target))
            self.headers.append({k.lower(): v for k, v in request.headers})
        # Outside the lock: a test's `applies` may hold one request while others go through.
        if self.applies is not None and not self.applies(request):
            return None
        with self._lock:
            roll = self._rng.random()
            for kind in KINDS:
                roll -= self.rates.get(kind, 0.0)
                if roll < 0:
                    return kind
        return None

    def _count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    # -- serving -------------------------------------------------------------------------

    def handle(
        self, client: socket.socket, upstream: http.client.HTTPConnection, request: Request
    ) -> bool:
        """Answer one request; False when the client connection is to be dropped."""
        kind = self._draw(request)
        if kind in ("error500", "slowdown"):
            self._count(kind)
            status, reason, code = (
                (500, "Internal Server Error", "InternalError")
                if kind == "error500"
                else (503, "Slow Down", "SlowDown")
            )
            message = self.message(request)
            send(client, request, s3_error(status, reason, code, message, "faultproxy"))
            return True
        if kind == "reset":
            self._count(kind)
            reset(client)
            return False
        reply = forward(upstream, request)
        if kind == "reset_after":
            self._count(kind)
            reset(client)
            return False
        if kind == "stall":
            self._count(kind)
            self._stopped.wait(self.stall_seconds)
        if kind == "cut" and request.method != "HEAD" and len(reply.body) >= 2:
            self._count(kind)
            half = reply.body[: len(reply.body) // 2]
            client.sendall(head(reply.status, reply.reason, reply.headers) + half)
            close(client)
            return False
        send(client, request, reply)
        return True


def stalling(
    upstream_port: int, matches: Callable[[Request], bool], seconds: float = 120
) -> tuple[FaultProxy, threading.Event]:
    """A proxy whose answers to the requests `matches` picks are held `seconds` (a silent S3
    for those alone; the proxy's stop ends the hold), and an event set once one arrived."""
    arrived = threading.Event()

    def applies(request: Request) -> bool:
        hit = matches(request)
        if hit:
            arrived.set()
        return hit

    proxy = FaultProxy(upstream_port, {"stall": 1.0}, stall_seconds=seconds, applies=applies)
    return proxy, arrived
