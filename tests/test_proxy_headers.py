"""The test proxies set a header they own, so an upstream that starts sending it too (moto
5.2.6 and Content-Range on a part HEAD) does not make the client see it twice."""

from __future__ import annotations

from trainsync_tui.bench.loopback_proxy import set_header


def test_set_header_replaces_every_spelling_and_keeps_the_rest() -> None:
    upstream = [
        ("content-range", "bytes 0-4/10"),
        ("ETag", '"abc"'),
        ("Content-Range", "bytes 0-4/10"),
    ]

    headers = set_header(upstream, "Content-Range", "bytes 0-4/20")

    assert headers == [("ETag", '"abc"'), ("Content-Range", "bytes 0-4/20")]


def test_set_header_adds_a_missing_header_once() -> None:
    assert set_header([], "Content-Length", "0") == [("Content-Length", "0")]
