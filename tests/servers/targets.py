"""The S3 servers the matrix runs against, and the known bugs of each that are not ours.

A quirk names what a server does differently from AWS S3. Some are bugs of the server that
trainsync can only report (per path or per server); the rest are behaviour of real
deployments that trainsync must handle with the same result as on AWS.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Bugs of the server, not ours: the matrix expects trainsync to report them, never to sync wrong.
NANIO_PERCENT_KEY = (
    "nanio 0.1.7: a key holding '%20' fails SigV4 (SignatureDoesNotMatch): it signs the path "
    "decoded once more than the client did"
)
S3RVER_MAX_KEYS_1 = (
    "s3rver 3.7: a ListObjectsV2 it cuts short (max-keys=1, or any page of a longer listing) "
    "answers 500: its continuation token is DES-encrypted, which Node's OpenSSL 3 refuses"
)
S3RVER_DELIMITER = "s3rver 3.7: a delimiter listing leaves folders out of CommonPrefixes"
IGNORES_CONDITIONS = "ignores If-None-Match and If-Match (PUT, DELETE, CompleteMultipartUpload)"
# Behaviour of real deployments that trainsync must handle.
NO_LIST_UPLOADS = "ListMultipartUploads answers 501 NotImplemented"
PART_HEAD_IS_WHOLE = "HEAD ?partNumber=1 answers 200 with the whole object"
MULTIPART_ETAG_IS_MD5 = "a multipart object's ETag is the MD5 of the whole file, no -N"
ETAG_NOT_MD5 = "ETags are not MD5s (AWS SSE-KMS / SSE-C): single PUTs, parts and multipart"


S3RVER_QUIRKS = frozenset(
    {
        S3RVER_MAX_KEYS_1,
        S3RVER_DELIMITER,
        IGNORES_CONDITIONS,
        NO_LIST_UPLOADS,
        PART_HEAD_IS_WHOLE,
        MULTIPART_ETAG_IS_MD5,
    }
)


@dataclass
class Target:
    """One S3 server on loopback: where it is, its credentials, what it does differently."""

    name: str
    url: str
    access_key: str
    secret_key: str
    quirks: frozenset[str] = field(default_factory=frozenset)

    def client(self, **config: Any) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, **config),
        )

    def has(self, quirk: str) -> bool:
        return quirk in self.quirks


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited at start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)  # readiness poll of a subprocess, not test synchronisation
    raise RuntimeError(f"{what} did not answer on port {port} within 60 s")


def s3rver_command() -> list[str] | None:
    """How to start s3rver here, or None: on PATH (npm install -g s3rver), or through npx
    from an install it already has (never a download during the tests)."""
    found = shutil.which("s3rver")
    if found:
        return [found]
    npx = shutil.which("npx")
    if npx is None:
        return None
    try:
        probe = subprocess.run(
            [npx, "--no-install", "s3rver", "--version"],
            capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [npx, "--no-install", "s3rver"] if probe.returncode == 0 else None


@contextmanager
def s3rver(command: list[str], data_dir: Path) -> Iterator[Target]:
    """s3rver (npm) on a free loopback port, with its fixed credentials S3RVER/S3RVER."""
    from tests.s3server import free_port

    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [*command, "-d", str(data_dir), "-a", "127.0.0.1", "-p", str(port), "-s"]
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ)
    )
    try:
        _wait_for_port(port, proc, "s3rver")
        yield Target(
            "s3rver",
            f"http://127.0.0.1:{port}",
            "S3RVER",
            "S3RVER",
            S3RVER_QUIRKS,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
