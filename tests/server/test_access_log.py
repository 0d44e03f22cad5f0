"""The access log escapes what it writes: a path cannot end a line, fake one, or carry
NUL and terminal escapes into the log (issue 14 item 10)."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path

import pytest

from tests.s3server import free_port
from tests.server.conftest import kill_group, start_process, subprocess_env, trainsync
from trainsync_tui.server.accesslog import escaped

FORGED = '03:00:00 10.6.6.6 "POST /api/actors/0042/training-data/comprehensive-sync" 200 0.1s'
LINE = re.compile(r'\d\d:\d\d:\d\d [0-9.]+ "[A-Z]+ [^"\x00-\x1f\x7f]*" \d{3} \d+\.\d{3}s')

TARGETS = [
    "/api/actors%0a" + FORGED.replace(" ", "%20").replace('"', "%22") + "?audit=0",
    "/api/nothing?note=%0d%0a" + FORGED.replace(" ", "%20"),
    "/api/actors%00nul?audit=0",
    "/api/actors%1b[31mred?audit=0",
    "/api/%e2%80%a8separator",
    "/api/\x00raw-nul",
    "/api/\x1b[2Jraw-escape",
]


def request(port: int, target: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_what_a_client_puts_in_the_path_cannot_forge_or_corrupt_a_log_line(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    (root / "data" / "actors").mkdir(parents=True)
    port = free_port()
    flags = [
        "--root",
        str(root),
        "--bucket",
        "no-such-bucket",
        "--endpoint-url",
        "http://127.0.0.1:9",
    ]
    proc, _banner = start_process(
        trainsync("serve", "--port", str(port), *flags), subprocess_env(tmp_path)
    )
    try:
        answers = [request(port, target) for target in TARGETS]
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        kill_group(proc.pid)
    assert all(answer.startswith(b"HTTP/1.") for answer in answers), [a[:20] for a in answers]
    lines = err.splitlines()
    # One line per request, none split or added; aiohttp's own complaint about a raw
    # control character in a path is one line too, without its traceback.
    access = [line for line in lines if LINE.fullmatch(line)]
    assert len(access) == len(TARGETS), err
    refused = [line for line in lines if line.endswith("Error handling request from 127.0.0.1")]
    assert len(access) + len(refused) + 1 == len(lines), err  # + "stopping…"
    assert "Traceback" not in err
    assert "%0A03:00:00%2010.6.6.6" in err or "%0A03:00:00 10.6.6.6" in err
    assert "\x00" not in err and "\x1b" not in err and "\u2028" not in err


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("/a\nb", "/a%0Ab"),
        ("/a\r\nb", "/a%0D%0Ab"),
        ("/nul\x00", "/nul%00"),
        ('/"quoted"', "/%22quoted%22"),
        ("/100%", "/100%25"),
        ("/\u2028\u202e", "/%E2%80%A8%E2%80%AE"),
        ("/café/0042", "/café/0042"),
    ],
)
def test_escaped_keeps_printable_text_and_encodes_the_rest(text: str, logged: str) -> None:
    assert escaped(text) == logged
