"""The loopback S3 server every tool talks to, and the count of requests it served by type."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from trainsync_tui.engine.s3.lease import LEASE_SUFFIX

ACCESS_KEY = "trainsync-bench"
SECRET_KEY = "trainsync-bench-secret-key"
REGION = "us-east-1"


def nanio_missing(program: str) -> str | None:
    """One line saying that `program` needs nanio and how to get it, or None when it is
    installed: said before a server is started, instead of a traceback from its start."""
    try:
        import nanio  # noqa: F401
    except ImportError:
        return f"{program} needs nanio: pip install 'trainsync[bench]'"
    return None


_LINE = re.compile(r'"(GET|PUT|POST|HEAD|DELETE) (\S+) HTTP/[\d.]+" (\d{3})')


def classify(method: str, target: str) -> str:
    """The S3 operation name of one request line (CopyObject is counted as PutObject); any
    request on an actor's lease object is "Lease", so a no-op sync that holds one is a no-op."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    path = parts.path.lstrip("/")
    has_key = bool(path.partition("/")[2])
    if not path:
        return "ListBuckets"
    if path.endswith(LEASE_SUFFIX):
        return "Lease"
    if method == "GET":
        if not has_key:
            if "uploads" in query:
                return "ListMultipartUploads"
            if "location" in query:
                return "GetBucketLocation"
            return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
        return "ListParts" if "uploadId" in query else "GetObject"
    if method == "HEAD":
        return "HeadObject" if has_key else "HeadBucket"
    if method == "PUT":
        if not has_key:
            return "CreateBucket"
        return "UploadPart" if "partNumber" in query else "PutObject"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return "DeleteObjects" if "delete" in query else "Post"
    if "uploadId" in query:
        return "AbortMultipartUpload"
    return "DeleteObject" if has_key else "DeleteBucket"


def count_requests(text: str) -> Counter[str]:
    """Requests by operation in a slice of the access log; failures also under "errors"."""
    counts: Counter[str] = Counter()
    for match in _LINE.finditer(text):
        method, target, status = match.groups()
        counts[classify(method, target)] += 1
        if int(status) >= 400:
            counts["errors"] += 1
    return counts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class NanioServer:
    """nanio on 127.0.0.1 with a data folder of its own; its access log counts requests."""

    data_dir: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / "nanio.log"

    def client_env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "NANIO_DATA_DIR": str(self.data_dir),
            "NANIO_ACCESS_KEY": ACCESS_KEY,
            "NANIO_SECRET_KEY": SECRET_KEY,
            "NANIO_REGION": REGION,
        }
        command = [sys.executable, "-m", "trainsync_tui.bench.nanio_launch"]
        command += ["127.0.0.1", str(self.port), str(self.workers)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        # A server start has no event to wait on from outside: poll the port.
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nanio exited at start: see {self.log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nanio did not answer on port {self.port} in {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cpu_seconds(self) -> float:
        """CPU (user + system) the server's processes have used so far; 0 without psutil."""
        try:
            import psutil
        except ImportError:
            return 0.0
        if self.process is None:
            return 0.0
        total = 0.0
        try:
            root = psutil.Process(self.process.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def mark(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def requests_since(self, mark: int) -> Counter[str]:
        with self.log_path.open("rb") as log:
            log.seek(mark)
            return count_requests(log.read().decode("utf-8", "replace"))

    def client(self) -> object:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, max_pool_connections=32),
        )

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]

    def drop_bucket(self, name: str) -> None:
        """Remove a bucket and its objects at once: nanio keeps no state beyond its folder."""
        shutil.rmtree(self.data_dir / name, ignore_errors=True)

    def object_stats(self, bucket: str, prefix: str) -> tuple[int, int]:
        """(objects, bytes) under a prefix, read from nanio's folder to keep S3 counts clean."""
        base = self.data_dir / bucket / prefix
        count = total = 0
        for folder, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith(".") or ".nanio" in folder:
                    continue
                count += 1
                total += os.stat(os.path.join(folder, name)).st_size
        return count, total
