"""Landing a kill or a stall mid-transfer: a request held at the fault proxy, and whether the
run being killed has kept something (parts or ranges) a rerun could resume from."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Callable

from tests.conftest import World
from tests.reliability.faultproxy import Request
from tests.reliability.rig import ACTOR


class Hold:
    """Holds the first request `matches` accepts at the proxy until released. Then, with
    `fault`, the proxy applies its fault (a reset: the request never reaches S3, so a kill
    lands while that transfer is unfinished); without, the request goes through (the run
    just stays mid-sync, its lease held, for as long as the case needs)."""

    def __init__(self, matches: Callable[[Request], bool], *, fault: bool) -> None:
        self.matches = matches
        self.fault = fault
        self.reached = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> bool:
        with self._lock:
            if self.reached.is_set() or not self.matches(request):
                return False
            self.reached.set()
        self.release.wait(120)
        return self.fault


def range_start(request: Request) -> int:
    """The first byte a ranged GET asks for (-1 for a GET of the whole object)."""
    found = re.match(r"bytes=(\d+)-", request.header("range") or "")
    return int(found.group(1)) if found else -1


def kept(world: World, kind: str, proc: subprocess.Popen[str]) -> bool:
    """Whether the killed run will leave something to resume from: parts in S3 for an
    upload, ranges recorded in the staging folder's sidecar for a download."""
    if kind == "upload":
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            uploads = world.s3.list_multipart_uploads(Bucket=world.bucket).get("Uploads", [])
            for upload in uploads:
                parts = world.s3.list_parts(
                    Bucket=world.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                ).get("Parts", [])
                if parts:
                    return True
            time.sleep(0.02)  # readiness poll of another process's progress
        return False
    sidecars = world.actor_dir(ACTOR) / ".trainsync" / "tmp" / "partial"
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        for sidecar in sidecars.glob("*.json") if sidecars.is_dir() else []:
            try:
                if json.loads(sidecar.read_text())["ranges"]:
                    return True
            except (OSError, ValueError, KeyError):
                continue
        time.sleep(0.02)
    return False
