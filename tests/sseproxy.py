"""A proxy on 127.0.0.1 that makes the loopback S3 behave like AWS with SSE-KMS, or like a
server that refuses conditional requests.

With `sse`, every ETag the client sees is not the MD5 of the bytes (on AWS an SSE-KMS or
SSE-C object's ETag is not): each real ETag is swapped for a stable random-looking one of
the same form (32 hex digits, the same "-N" part count), in headers and XML bodies, and
every reply says `x-amz-server-side-encryption: aws:kms`. ETags the client sends back
(If-Match, copy conditions, the parts list of CompleteMultipartUpload) are swapped back.

With `whole_md5`, a multipart object's ETag is the MD5 of its whole content instead, as
on s3rver and some gateways.

With `refuse`, requests of those methods that carry If-Match / If-None-Match get 501
NotImplemented, as some S3-compatible servers answer; without `list_uploads`, so does
ListMultipartUploads (s3rver, some gateways).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import socket
from dataclasses import dataclass, field

from tests.reliability.faultproxy import FaultProxy
from trainsync_tui.bench.loopback_proxy import Reply, Request, forward, s3_error, send, set_header

_XML_ETAG = re.compile(rb"<ETag>(&quot;|\")?([0-9a-f]{32})(-\d+)?(&quot;|\")?</ETag>")
_MULTIPART_ETAG = re.compile(r"[0-9a-f]{32}-\d+")
_XML_MULTIPART_ETAG = re.compile(rb"[0-9a-f]{32}-\d+")
_NOT_IMPLEMENTED = s3_error(
    501,
    "Not Implemented",
    "NotImplemented",
    "A header you provided implies functionality that is not implemented",
    "sseproxy",
)


@dataclass
class SseProxy(FaultProxy):
    sse: bool = True
    refuse: tuple[str, ...] = ()  # methods whose conditional requests get 501
    list_uploads: bool = True  # False: ListMultipartUploads gets 501, as on s3rver
    # True: a multipart object's ETag is the MD5 of its whole content (s3rver, gateways).
    whole_md5: bool = False
    _real: dict[str, str] = field(default_factory=dict)  # fake hex -> real hex
    _whole: dict[str, str] = field(default_factory=dict)  # real "<hex>-N" -> whole MD5

    def fake(self, real: str) -> str:
        fake = hashlib.md5(b"kms:" + real.encode()).hexdigest()
        with self._lock:
            self._real[fake] = real
        return fake

    def _back(self, text: str) -> str:
        with self._lock:
            return re.sub(r"[0-9a-f]{32}", lambda m: self._real.get(m[0], m[0]), text)

    def handle(
        self, client: socket.socket, upstream: http.client.HTTPConnection, request: Request
    ) -> bool:
        self._draw(request)
        conditional = request.header("if-match") or request.header("if-none-match")
        query = request.target.partition("?")[2].split("&")
        listing = request.method == "GET" and "uploads" in query
        if (conditional and request.method in self.refuse) or (listing and not self.list_uploads):
            self._count("refused")
            send(client, request, _NOT_IMPLEMENTED)
            return True
        if self.sse or self.whole_md5:
            self._to_real(request)
        status, reason, headers, body = forward(upstream, request)
        if self.whole_md5:
            if request.method == "POST" and "uploadId=" in request.target and status == 200:
                self._learn_whole_md5(request, body)
            headers = [(k, self._whole_md5(v) if k.lower() == "etag" else v) for k, v in headers]
            body = _XML_MULTIPART_ETAG.sub(lambda m: self._whole_md5(m[0].decode()).encode(), body)
        if self.sse:
            headers = [(k, self._fake_header(v) if k.lower() == "etag" else v) for k, v in headers]
            headers = set_header(headers, "x-amz-server-side-encryption", "aws:kms")
            body = _XML_ETAG.sub(
                lambda m: m[0].replace(m[2], self.fake(m[2].decode()).encode()), body
            )
        send(client, request, Reply(status, reason, headers, body))
        return True

    def _learn_whole_md5(self, request: Request, body: bytes) -> None:
        found = _XML_MULTIPART_ETAG.search(body)
        if found is None:
            return
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        try:
            upstream.request("GET", request.target.partition("?")[0])
            whole = hashlib.md5(upstream.getresponse().read()).hexdigest()
        finally:
            upstream.close()
        with self._lock:
            self._whole[found[0].decode()] = whole
            self._real[whole] = found[0].decode()

    def _whole_md5(self, text: str) -> str:
        with self._lock:
            return _MULTIPART_ETAG.sub(lambda m: self._whole.get(m[0], m[0]), text)

    def _fake_header(self, value: str) -> str:
        return re.sub(r"[0-9a-f]{32}", lambda m: self.fake(m[0]), value)

    def _to_real(self, request: Request) -> None:
        names = ("if-match", "if-none-match", "x-amz-copy-source-if-match")
        request.headers = [
            (k, self._back(v) if k.lower() in names else v) for k, v in request.headers
        ]
        if request.method == "POST" and b"<ETag>" in request.body:
            request.body = self._back(request.body.decode()).encode()
            if request.header("content-md5"):
                digest = base64.b64encode(hashlib.md5(request.body).digest()).decode()
                request.headers = [
                    (k, digest if k.lower() == "content-md5" else v) for k, v in request.headers
                ]
