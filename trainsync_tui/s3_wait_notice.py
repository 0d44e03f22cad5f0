"""The CLI's line on stderr while S3 says nothing: a silent endpoint is named within 2 s,
not only when its deadline fails the run a minute later (issue 25). stdout, and so --json,
is never written."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TextIO

from trainsync_tui.engine.facade import waiting_for_s3
from trainsync_tui.engine.s3.request_guard import NOTICE_AFTER, Silence

POLL_SECONDS = 0.5


class S3WaitNotice:
    """Asks the engine twice a second how long S3 has said nothing, and says so on
    `stream` once that passes NOTICE_AFTER: again each time the wait doubles (2, 4, 8,
    16… s), so a minute of silence is five lines, not sixty."""

    def __init__(
        self,
        stream: TextIO | None = None,
        silence: Callable[[], Silence | None] = waiting_for_s3,
        poll: float = POLL_SECONDS,
    ) -> None:
        self._stream = stream
        self._silence = silence
        self._poll = poll
        self._stop = threading.Event()
        self._next = NOTICE_AFTER  # the wait at which the next line is due
        self._thread = threading.Thread(target=self._run, name="s3-wait-notice", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            self.check()

    def check(self) -> None:
        """One look: a line when a wait has reached the next mark; S3 answering resets it."""
        silence = self._silence()
        if silence is None:
            self._next = NOTICE_AFTER
            return
        if silence.waited < self._next:
            return
        while self._next <= silence.waited:
            self._next *= 2
        stream = self._stream if self._stream is not None else sys.stderr
        with contextlib.suppress(OSError, ValueError):  # stderr closed: the run goes on
            stream.write(f"trainsync: {notice_line(silence)}\n")
            stream.flush()


def notice_line(silence: Silence) -> str:
    return f"waiting for S3 at {silence.where} ({silence.counted()})…"


@contextlib.contextmanager
def s3_wait_notice(enabled: bool = True) -> Iterator[None]:
    """Say on stderr while S3 says nothing, for the `with` block (a command's run)."""
    if not enabled:
        yield
        return
    notice = S3WaitNotice()
    notice.start()
    try:
        yield
    finally:
        notice.stop()
