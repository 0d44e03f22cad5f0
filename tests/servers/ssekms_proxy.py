"""A proxy in front of moto that answers as AWS does for SSE-KMS objects.

On AWS an object stored with SSE-KMS (or SSE-C) has an ETag that is not the MD5 of its bytes,
for single PUTs, parts and completed multipart uploads alike; replies carry
`x-amz-server-side-encryption: aws:kms`. Content-MD5 is still checked, conditions
(If-Match / If-None-Match) still apply to the ETags S3 hands out. This proxy does the same
to moto: every ETag leaving it becomes random hex (keeping a multipart "-N" suffix), stable
per key and stored version, and every ETag coming back in (If-Match, If-None-Match, the
part list of CompleteMultipartUpload) is turned back into moto's before it is forwarded.

Built on the shared loopback proxy (through faultproxy.py, for its request log): only the
handling of one request differs.
"""

from __future__ import annotations

import http.client
import re
import secrets
import socket
import threading
from urllib.parse import unquote, unquote_plus, urlsplit

from tests.reliability.faultproxy import FaultProxy
from trainsync_tui.bench.loopback_proxy import Reply, Request, forward, send, set_header

KMS_KEY = "arn:aws:kms:us-east-1:000000000000:key/trainsync-test"
_ETAG_XML = re.compile(r"<ETag>(&quot;|\")?([0-9a-fA-F]+(?:-\d+)?)(&quot;|\")?</ETag>")
_CONTENTS = re.compile(r"<Contents>.*?</Contents>", re.DOTALL)
_KEY_XML = re.compile(r"<Key>(.*?)</Key>", re.DOTALL)
_ETAG_HEADERS = ("if-match", "if-none-match", "x-amz-copy-source-if-match")


class SseKmsProxy(FaultProxy):
    """moto, as seen through AWS SSE-KMS: ETags that are not MD5s, the KMS headers added."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._fake: dict[tuple[str, str], str] = {}  # (key, moto's ETag) -> ours
        self._real: dict[str, str] = {}  # ours -> moto's
        self._map_lock = threading.Lock()

    def fake(self, key: str, real: str) -> str:
        """The ETag AWS would show for moto's `real` (hex, no quotes) of `key`."""
        with self._map_lock:
            found = self._fake.get((key, real))
            if found is None:
                _, dash, parts = real.partition("-")
                found = secrets.token_hex(16) + (dash + parts if dash else "")
                self._fake[(key, real)] = found
                self._real[found] = real
            return found

    def real(self, fake: str) -> str:
        with self._map_lock:
            return self._real.get(fake, fake)

    def handle(
        self, client: socket.socket, upstream: http.client.HTTPConnection, request: Request
    ) -> bool:
        self._draw(request)  # log it as the fault proxy does; no faults here
        key = _key_of(request.target)
        request.headers = [
            (name, self._unfake_header(value) if name.lower() in _ETAG_HEADERS else value)
            for name, value in request.headers
        ]
        if request.method == "POST" and "uploadId=" in request.target and request.body:
            text = request.body.decode("utf-8")
            text = _ETAG_XML.sub(lambda m: f'<ETag>"{self.real(m.group(2))}"</ETag>', text)
            request.body = text.encode("utf-8")
        status, reason, headers, body = forward(upstream, request)
        whole = self._whole_object(upstream, request, key) if status < 300 else None
        if whole is not None and request.method == "HEAD":
            # AWS answers HEAD ?partNumber=N with 206, the part's range and the object's ETag.
            length = next(v for k, v in headers if k.lower() == "content-length")
            status, reason = 206, "Partial Content"
            # moto >= 5.2.6 sends its own Content-Range here: set it, never add a second one.
            headers = set_header(headers, "Content-Range", f"bytes 0-{int(length) - 1}/{whole[1]}")
        out = [
            (name, self._fake_etag(key, whole, value) if name.lower() == "etag" else value)
            for name, value in headers
        ]
        if status < 300 and request.method in ("GET", "HEAD", "PUT", "POST") and key:
            out = set_header(out, "x-amz-server-side-encryption", "aws:kms")
            out = set_header(out, "x-amz-server-side-encryption-aws-kms-key-id", KMS_KEY)
        if body and b"<ETag>" in body:
            url_keys = "encoding-type=url" in request.target
            body = self._fake_xml(key, body.decode("utf-8"), url_keys).encode("utf-8")
        send(client, request, Reply(status, reason, out, body))
        return True

    def _fake_etag(self, key: str, whole: tuple[str, int] | None, value: str) -> str:
        real = whole[0] if whole is not None else value.strip('"')
        return f'"{self.fake(key, real)}"'

    def _whole_object(
        self, upstream: http.client.HTTPConnection, request: Request, key: str
    ) -> tuple[str, int] | None:
        """For a HEAD/GET ?partNumber=N: (moto's ETag, size) of the whole object. moto answers
        such a request with the part's MD5 as ETag; AWS with the object's."""
        query = urlsplit(request.target).query
        if request.method not in ("HEAD", "GET") or "partNumber=" not in query or not key:
            return None
        path = urlsplit(request.target).path
        plain = Request("HEAD", path, [h for h in request.headers if _plain(h[0])], b"")
        status, _, headers, _ = forward(upstream, plain)
        if status >= 300:
            return None
        found = {k.lower(): v for k, v in headers}
        return found["etag"].strip('"'), int(found["content-length"])

    def _unfake_header(self, value: str) -> str:
        return ", ".join(
            f'"{self.real(tag.strip().strip(chr(34)))}"' if tag.strip() != "*" else "*"
            for tag in value.split(",")
        )

    def _fake_xml(self, key: str, text: str, url_keys: bool) -> str:
        """ETags in a listing belong to each entry's key; elsewhere (ListParts, Complete,
        CopyObject) to the request's key."""

        def one_entry(entry: re.Match[str]) -> str:
            found = _KEY_XML.search(entry.group(0))
            entry_key = _xml_unescape(found.group(1)) if found else key
            if found and url_keys:  # ListObjectsV2 with EncodingType=url, as botocore asks
                entry_key = unquote_plus(entry_key)
            return _ETAG_XML.sub(
                lambda m: f"<ETag>&quot;{self.fake(entry_key, m.group(2))}&quot;</ETag>",
                entry.group(0),
            )

        if "<Contents>" in text:
            return _CONTENTS.sub(one_entry, text)
        return _ETAG_XML.sub(
            lambda m: f"<ETag>&quot;{self.fake(key, m.group(2))}&quot;</ETag>", text
        )


def _plain(header: str) -> bool:
    return header.lower() not in (*_ETAG_HEADERS, "range", "content-length")


def _key_of(target: str) -> str:
    """The object key of a path-style request target ("" for bucket requests)."""
    path = unquote(urlsplit(target).path).lstrip("/")
    return path.partition("/")[2]


def _xml_unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )
