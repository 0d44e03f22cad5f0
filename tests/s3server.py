"""A real S3-compatible server on loopback for tests: moto's server mode in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """moto on 127.0.0.1:<free port> (faithful_s3.py); stopped with the test session."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # moto's server behind the body checks real S3 makes (see faithful_s3.py).
        script = Path(__file__).with_name("faithful_s3.py")
        env = dict(os.environ, MOTO_PORT=str(self.port))
        self._proc = subprocess.Popen(
            [sys.executable, str(script), "127.0.0.1", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError("the loopback S3 server exited at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)  # readiness poll of a subprocess, not test synchronisation
        raise RuntimeError("the loopback S3 server did not start within 30 s")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
