"""The engine knows when S3 says nothing (issue 25 item 2): while a request waits on a
silent endpoint, `Engine.s3_silence()` says for how long and under which deadline; once
the request has ended, or against an S3 that answers, it says nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import World
from tests.s3server import free_port
from tests.silent_s3 import SilentEndpoint, silent_endpoint
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import TrainsyncError
from trainsync_tui.engine.facade import Engine, waiting_for_s3
from trainsync_tui.engine.s3.client import make_client
from trainsync_tui.engine.s3.request_guard import (
    NOTICE_AFTER,
    AnswerWatch,
    Silence,
    answer_watch,
)


@pytest.fixture
def silent() -> Iterator[SilentEndpoint]:
    with silent_endpoint() as endpoint:
        yield endpoint


def test_a_request_on_a_silent_endpoint_is_a_silence_until_its_deadline_ends_it(
    silent: SilentEndpoint, tmp_path: Path
) -> None:
    settings = Settings(root=tmp_path, bucket="hung", endpoint_url=silent.url, region="us-east-1")
    settings = replace(settings, request_deadline=3.0, read_timeout=1.0)
    engine = Engine(settings)
    failed: list[Exception] = []

    def listing() -> None:
        try:
            engine.actor_names()
        except TrainsyncError as exc:
            failed.append(exc)

    thread = threading.Thread(target=listing)
    thread.start()
    assert silent.wait_for_connections(1)
    seen = []
    give_up = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < give_up:
        if (silence := engine.s3_silence()) is not None:
            seen.append(silence)
        thread.join(0.1)
    assert not thread.is_alive() and failed  # the deadline ended it
    assert seen and {s.where for s in seen} == {silent.url}
    assert {s.deadline for s in seen} == {3.0}
    assert seen[-1].waited > 1.5 and seen[-1].waited >= seen[0].waited
    assert engine.s3_silence() is None  # the request ended: nothing waits
    assert waiting_for_s3() is None or waiting_for_s3().where != silent.url  # type: ignore[union-attr]


def test_an_s3_that_answers_is_never_silent(world: World) -> None:
    engine = world.engine()
    world.put_s3("0001_a", "a.bin", b"a")
    assert engine.actor_names() == ["0001_a"]
    assert engine.s3_silence() is None


def test_a_slow_request_is_not_a_silent_s3_when_s3_answers_others_meanwhile() -> None:
    now = [100.0]
    watch = AnswerWatch("http://s3.example", clock=lambda: now[0])
    slow, quick = {"request": 1}, {"request": 2}
    watch.began(slow, 100.0, 160.0)
    now[0] = 103.0
    assert watch.silence() is not None and watch.silence().waited == 3.0  # type: ignore[union-attr]
    watch.began(quick, 103.0, 163.0)
    watch.answered(103.5)
    watch.ended(quick)
    now[0] = 104.0
    silence = watch.silence()  # S3 answers: the slow one is slow, S3 is not silent
    assert silence is not None and silence.waited == 0.5 < NOTICE_AFTER
    now[0] = 110.0  # then S3 says nothing more: silent since its last answer
    assert watch.silence() == Silence("http://s3.example", 6.5, 60.0)


def test_a_request_never_seen_to_end_is_forgotten_after_its_deadline() -> None:
    now = [100.0]
    watch = AnswerWatch("http://s3.example", clock=lambda: now[0])
    watch.began({"request": 1}, 100.0, 110.0)
    now[0] = 112.0
    assert watch.silence() is not None  # still within the guard's grace
    now[0] = 116.0
    assert watch.silence() is None


def test_the_back_off_after_a_refused_connection_is_no_silence_of_s3s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listens on the port: each attempt is refused at once, and the retries' back-
    off (random, up to seconds) must not read as S3 saying nothing, or the CLI prints
    "waiting for S3" before its one-line error about an unreachable endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    closed = f"http://127.0.0.1:{free_port()}"
    client = make_client(
        Settings(root=tmp_path, bucket="b", endpoint_url=closed, region="us-east-1")
    )
    watch = answer_watch(closed)
    attempts: list[tuple[float, Silence | None]] = []
    client.meta.events.register(
        "before-send.s3", lambda **_: attempts.append((time.monotonic(), watch.silence()))
    )
    with pytest.raises(Exception, match="Could not connect"):
        client.list_objects_v2(Bucket="b")
    first = attempts[0][0]
    assert len(attempts) >= 3 and attempts[-1][0] - first > 0.05  # it backed off and retried
    for _, silence in attempts:
        assert silence is not None and silence.waited < 0.05, silence
    assert watch.silence() is None
