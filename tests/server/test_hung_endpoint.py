"""`trainsync serve` against an S3 endpoint that accepts connections and never answers:
local reads still answer, and SIGTERM stops the server at once (issue 14 item 7)."""

from __future__ import annotations

import http.client
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.s3server import free_port
from tests.server.conftest import kill_group, start_process, subprocess_env, trainsync
from tests.silent_s3 import silent_endpoint

ACTOR = "0042_european_30_male"
AUDIT = f"/api/actors/0042/training-data/audit?actor_name={ACTOR}"
HISTORY = "/api/actors/0042/training-data/sync-history"
S3_THREADS = 8  # the server's pool for work that waits on S3


def get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_stuck_audits_leave_local_reads_answering_and_sigterm_stops_the_server(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    (root / "data" / "actors" / ACTOR / "training_data").mkdir(parents=True)
    port = free_port()
    with silent_endpoint() as silent, ThreadPoolExecutor(S3_THREADS + 4) as clients:
        flags = ["--root", str(root), "--bucket", "hung", "--endpoint-url", silent.url]
        proc, _banner = start_process(
            trainsync("serve", "--port", str(port), *flags), subprocess_env(tmp_path)
        )
        try:
            audits = [clients.submit(get, port, AUDIT, 60) for _ in range(S3_THREADS + 4)]
            assert silent.wait_for_connections(S3_THREADS), "the audits never reached S3"

            # Before: history waited behind the stuck audits in one pool of 8 threads.
            status, body = get(port, HISTORY, timeout=5)
            assert status == 200, body

            proc.send_signal(signal.SIGTERM)
            # Before: the stuck audits kept the server running for minutes.
            _out, err = proc.communicate(timeout=10)
            assert proc.returncode == 0, err
            answers = [audit.result(timeout=10) for audit in audits]
        finally:
            kill_group(proc.pid)
    # Every audit got an answer, not a dropped connection: cancelled by the shutdown.
    assert [status for status, _ in answers] == [503] * len(audits), answers
    assert "Traceback" not in err
