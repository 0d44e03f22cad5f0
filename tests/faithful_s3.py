"""moto's S3 server with the two body checks real S3 makes and moto skips.

Real S3 refuses a request whose body is shorter than its Content-Length (IncompleteBody)
or does not match its Content-MD5 (BadDigest); moto stores whatever arrived. A client
killed between a PUT's headers and its body would leave an empty object in moto that S3
never would, and the crash tests would be testing moto, not trainsync.

Run as a script: `python tests/faithful_s3.py HOST PORT`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
from collections.abc import Callable, Iterable
from typing import Any

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

StartResponse = Callable[..., Any]

_MESSAGES = {
    "IncompleteBody": "You did not provide the number of bytes specified by the "
    "Content-Length HTTP header",
    "BadDigest": "The Content-MD5 you specified did not match what we received.",
}


def _refuse(start_response: StartResponse, code: str) -> Iterable[bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{_MESSAGES[code]}</Message></Error>"
    ).encode()
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _read_exactly(stream: Any, length: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < length:
        try:
            chunk = stream.read(length - got)
        except OSError:
            break
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


class FaithfulBodies:
    """WSGI middleware: read each PUT/POST body whole and check it before moto sees it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        length = environ.get("CONTENT_LENGTH")
        if environ.get("REQUEST_METHOD") in ("PUT", "POST") and length:
            want = int(length)
            body = _read_exactly(environ["wsgi.input"], want)
            if len(body) < want:
                return _refuse(start_response, "IncompleteBody")
            digest = environ.get("HTTP_CONTENT_MD5")
            chunked = "aws-chunked" in environ.get("HTTP_CONTENT_ENCODING", "")
            if digest and not chunked:
                actual = base64.b64encode(hashlib.md5(body).digest()).decode()
                if actual != digest:
                    return _refuse(start_response, "BadDigest")
            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def main(host: str, port: int) -> None:
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, FaithfulBodies(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
