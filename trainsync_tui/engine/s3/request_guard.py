"""What bounds an S3 request: a deadline over all its attempts, and a CancelToken that closes
its connections, so a request blocked on a silent server ends at once instead of after
botocore's read timeout times its attempts.

Through botocore's public hooks only (before-send, needs-retry, its standard retry policy);
the reach into its connection pools that a cancel needs is botocore_sockets.py's.

Each guard also tells its endpoint's `AnswerWatch` when a request began and when S3 last
answered anything, so a front end can say "waiting for S3 (N s)" while it says nothing."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import CancelledSync, ConfigError
from trainsync_tui.engine.s3.botocore_sockets import track_sockets

# Attempts per request (the first and 6 retries), decided by botocore's standard retry
# policy in RequestGuard._needs_retry, where the back-off sleep can be cut short.
ATTEMPTS = 7
# The client's own retries: none, as they would sleep where no cancel reaches. (Such a
# client marks every response "max attempts reached"; _needs_retry takes the mark off.)
BOTOCORE_RETRIES = {"mode": "standard", "total_max_attempts": 1}
_STARTED = "trainsync_started"
_DEADLINE = "trainsync_deadline"
_REFUSED = "trainsync_refused"  # the last attempt found nothing listening
# After a cancel only clean-up goes out (any other call is a worker that has not seen the
# cancel yet): worth a try, as a healthy S3 answers in milliseconds, but not worth keeping
# the user waiting past the second the README promises. An upload left unaborted is the
# next run's clean-up.
CLEAN_UP_OPERATIONS = frozenset({"AbortMultipartUpload"})
AFTER_CANCEL_SECONDS = 1.0
# Operations whose length depends on the bandwidth or on the size of the object (a body to
# send, a download to stream, S3 assembling or copying a large object while it sends
# keep-alive spaces): the deadline stops their retries, but an attempt that makes progress
# is only bounded by read_timeout per stalled read.
_LONG_OPERATIONS = frozenset(
    {
        "PutObject",
        "UploadPart",
        "GetObject",
        "CompleteMultipartUpload",
        "CopyObject",
        "UploadPartCopy",
    }
)


class RequestGuard:
    """Attached to one client: each call ends at the deadline, and a cancel shuts down the
    client's connections, so every call begun before it ends at once with CancelledSync.
    After it only clean-up calls (aborting a multipart upload) go out, under a short
    deadline: the endpoint may be the reason for the cancel."""

    def __init__(
        self,
        *,
        where: str,
        deadline: float,
        read_timeout: float,
        cancel: CancelToken | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.where = where
        self.deadline = deadline
        self.read_timeout = read_timeout
        # Weak: the Engine keeps this guard's client per token in a WeakKeyDictionary.
        self._cancel = weakref.ref(cancel) if cancel is not None else None
        self._clock = clock
        self._cancelled_at = float("inf")
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._sending = threading.local()  # when the call this thread sends began
        self._watch = answer_watch(where)

    def attach(self, client: Any) -> None:
        """Guard the requests of `client`, made with retries=BOTOCORE_RETRIES."""
        events = client.meta.events
        events.register_first("before-send.s3", self._before_send)
        policy = _standard_retries(client)
        events.register(
            "needs-retry.s3", lambda **kwargs: self._needs_retry(policy.needs_retry, **kwargs)
        )
        if cancel := self.cancel:
            track_sockets(client, self._opened)
            cancel.on_cancel(self.interrupt)

    @property
    def cancel(self) -> CancelToken | None:
        return self._cancel() if self._cancel is not None else None

    # -- events -------------------------------------------------------------------------

    def _before_send(self, request: Any, event_name: str, **_: Any) -> None:
        """Each attempt: refuse to start after a cancel or the deadline; cap its wait."""
        context = request.context
        now = self._clock()
        operation = event_name.rsplit(".", 1)[-1]
        if _STARTED not in context:
            if now >= self._cancelled_at and operation not in CLEAN_UP_OPERATIONS:
                raise CancelledSync()
            context[_STARTED] = now
            budget = self.deadline if now < self._cancelled_at else AFTER_CANCEL_SECONDS
            context[_DEADLINE] = now + min(self.deadline, budget)
        if operation not in _LONG_OPERATIONS:  # a long one is silent while it sends
            # After a refused attempt (below) the wait starts again with this attempt.
            since = now if context.pop(_REFUSED, False) else context[_STARTED]
            self._watch.began(context, since, context[_DEADLINE])
        self._check(context)
        self._sending.started = context[_STARTED]
        left = context[_DEADLINE] - now
        if left <= 0:
            raise self._timed_out(event_name, context)
        if operation not in _LONG_OPERATIONS:
            context["read_timeout"] = max(0.05, min(self.read_timeout, left))

    def _needs_retry(self, standard: Callable[..., Any], **kwargs: Any) -> Any:
        """After each attempt: S3 answered (any status is an answer), or the request ended
        (no retry, or an error raised here), for the watch."""
        context = kwargs["request_dict"]["context"]
        if kwargs.get("response") is not None:
            self._watch.answered(self._clock())
        if _refused(kwargs.get("caught_exception")):
            # The network said at once that nothing listens there: the back-off before the
            # next attempt is no silence of S3's, and no "waiting for S3" is shown for it.
            context[_REFUSED] = True
            self._watch.ended(context)
        delay: Any = None
        try:
            delay = self._retry_delay(standard, context, **kwargs)
            return delay
        finally:
            if delay is None or delay is False:
                self._watch.ended(context)

    def _retry_delay(self, standard: Callable[..., Any], context: Any, **kwargs: Any) -> Any:
        """An answer that arrived stands, even after a cancel (the PUT happened); an attempt
        cut by the cancel is a cancel, not a network error."""
        if kwargs.get("caught_exception") is not None:
            self._check(context)
        delay = standard(**kwargs)
        if kwargs["attempts"] < ATTEMPTS:
            _unmark_max_attempts(kwargs.get("response"))
        if delay is None or delay is False:
            return delay
        self._check(context)
        left = context.get(_DEADLINE, self._clock()) - self._clock()
        if left <= float(delay):  # the retry could not begin before the deadline
            raise self._timed_out(kwargs["operation"].name, context, kwargs)
        cancel = self.cancel
        if cancel is None:
            time.sleep(delay)
        elif cancel.wait(delay):
            self._check(context)
        return 0  # slept already; botocore sleeps what we return

    def _check(self, context: dict[str, Any]) -> None:
        if context.get(_STARTED, 0.0) <= self._cancelled_at <= self._clock():
            raise CancelledSync()

    def _timed_out(
        self, operation: str, context: dict[str, Any], attempt: dict[str, Any] | None = None
    ) -> ConfigError:
        name = operation.rsplit(".", 1)[-1]
        seconds = context.get(_DEADLINE, 0.0) - context.get(_STARTED, 0.0) or self.deadline
        return ConfigError(
            f"the S3 endpoint {self.where} did not answer {name} within "
            f"{seconds:g} s (request_deadline{_last_failure(attempt)}): check --endpoint-url "
            "and the network"
        )

    # -- connections --------------------------------------------------------------------

    def _opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
        if getattr(self._sending, "started", 0.0) <= self._cancelled_at <= self._clock():
            _shut(sock)  # a call begun before the cancel connected while it ran

    def interrupt(self) -> None:
        """Shut every connection down: a thread blocked reading one gets EOF at once (idle
        ones are replaced when next used)."""
        with self._lock:
            self._cancelled_at = min(self._cancelled_at, self._clock())
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


@dataclass(frozen=True)
class Silence:
    """S3 at `where` has answered nothing for `waited` seconds while a request waits on it;
    that request gives up `deadline` seconds after it began."""

    where: str
    waited: float
    deadline: float

    def counted(self) -> str:
        """ "12 s, deadline 60 s": how both front ends count it."""
        return f"{self.waited:.0f} s, deadline {self.deadline:g} s"


# A front end says "waiting for S3" once it has said nothing this long: a healthy S3
# answers a listing in well under a second, a distant one within two.
NOTICE_AFTER = 2.0
# A request still noted this long after its deadline ended without the guard seeing it end
# (an error botocore raised outside its retry loop): forgotten, so no notice sticks.
_FORGET_AFTER = 5.0


class AnswerWatch:
    """One endpoint's requests that wait for a first answer, and when it last answered:
    what tells "S3 is slow for one request" (something else answered meanwhile) from "S3
    says nothing". Fed by every RequestGuard of the endpoint in the process."""

    def __init__(self, where: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.where = where
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[float, float]] = {}  # request -> (began, deadline at)
        self._answered = float("-inf")

    def began(self, context: dict[str, Any], now: float, deadline_at: float) -> None:
        with self._lock:
            self._waiting[id(context)] = (now, deadline_at)

    def answered(self, now: float) -> None:
        with self._lock:
            self._answered = max(self._answered, now)

    def ended(self, context: dict[str, Any]) -> None:
        with self._lock:
            self._waiting.pop(id(context), None)

    def silence(self) -> Silence | None:
        """How long S3 has said nothing while a request waits on it: since the oldest
        waiting request began, or S3's last answer if later (one slow request while S3
        answers others is not a silent S3); None when nothing waits."""
        now = self._clock()
        with self._lock:
            for key, (_, deadline_at) in list(self._waiting.items()):
                if now > deadline_at + _FORGET_AFTER:
                    del self._waiting[key]
            if not self._waiting:
                return None
            began, deadline_at = min(self._waiting.values())
            since = max(began, self._answered)
        return Silence(self.where, now - since, deadline_at - began)


_WATCHES: dict[str, AnswerWatch] = {}
_WATCHES_LOCK = threading.Lock()


def answer_watch(where: str) -> AnswerWatch:
    """The process's watch of the endpoint `where` (every client of it feeds the same)."""
    with _WATCHES_LOCK:
        watch = _WATCHES.get(where)
        if watch is None:
            watch = _WATCHES[where] = AnswerWatch(where)
        return watch


def longest_silence() -> Silence | None:
    """The longest silence of any endpoint this process waits on (the CLI's notice)."""
    with _WATCHES_LOCK:
        watches = list(_WATCHES.values())
    found = [s for w in watches if (s := w.silence()) is not None]
    return max(found, key=lambda s: s.waited, default=None)


def _refused(exc: BaseException | None) -> bool:
    """A connection the network refused or could not route: an answer, not a silence (a
    connect that times out, or a read, is silence)."""
    from botocore.exceptions import EndpointConnectionError

    return isinstance(exc, EndpointConnectionError)


def _last_failure(attempt: dict[str, Any] | None) -> str:
    """`; last attempt: …` naming what the last attempt got, when it got something."""
    if not attempt:
        return ""
    if (exc := attempt.get("caught_exception")) is not None:
        return f"; last attempt: {type(exc).__name__}"
    response = attempt.get("response")
    status = response[0].status_code if response and response[0] is not None else None
    return f"; last attempt: HTTP {status}" if status else ""


def _unmark_max_attempts(response: Any) -> None:
    """The mark the client's own retry handler (of one attempt) put on this response, which
    botocore would print as "(reached max retries: 0)" in an error with no retry."""
    if response and isinstance(metadata := response[1].get("ResponseMetadata"), dict):
        metadata.pop("MaxAttemptsReached", None)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for TLS: SSLSocket.shutdown would drop its SSL
    # object under the thread that is reading from it. OSError: already closed.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _standard_retries(client: Any) -> Any:
    """botocore's standard retry handler for `client`, for us to call: what botocore itself
    registers, with its retry quota and its header of attempts, minus the needs-retry
    handler (the client has its own, which never retries)."""
    from botocore.retries.standard import register_retry_handler

    events = client.meta.events

    def leaving_out_needs_retry(register: Callable[..., Any]) -> Callable[..., Any]:
        # Under no unique id: botocore's own handlers hold the ids, and ours add to them.
        def maybe(event_name: str, handler: Any, *_: Any, **__: Any) -> None:
            if not event_name.startswith("needs-retry"):
                register(event_name, handler)

        return maybe

    registrations = _Overlay(
        events,
        register=leaving_out_needs_retry(events.register),
        register_first=leaving_out_needs_retry(events.register_first),
        register_last=leaving_out_needs_retry(events.register_last),
    )
    view = _Overlay(client, meta=_Overlay(client.meta, events=registrations))
    return register_retry_handler(view, max_attempts=ATTEMPTS)


class _Overlay:
    """`target`, except for the attributes given."""

    def __init__(self, target: Any, **attributes: Any) -> None:
        self._target = target
        vars(self).update(attributes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)
