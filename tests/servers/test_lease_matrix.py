"""The S3 lease on every server: a second root, in a process of its own, never syncs the actor
while the first holds it (servers that ignore conditional writes included: there the lease
is read before it is written)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.engine.test_lease import ACTOR, Held
from tests.servers.conftest import Matrix


def test_a_second_root_in_another_process_refuses_while_the_first_syncs(matrix: Matrix) -> None:
    m = matrix
    m.a.put_local(ACTOR, "a.bin", b"from root A")
    m.b.put_local(ACTOR, "b.bin", b"from root B")
    command = [sys.executable, "-m", "trainsync_tui", "sync", ACTOR, "--json", *m.b.cli_flags()]

    with Held(m.a) as a:
        refused = subprocess.run(
            command, capture_output=True, text=True, env=dict(os.environ), timeout=120
        )
        report_a = a.release()

    assert refused.returncode == 1, refused
    error = json.loads(refused.stdout)["error"]
    assert error.startswith(f"{ACTOR} is already being synced by "), error
    assert report_a.errors == [] and report_a.counts.uploaded == 1
    assert m.a.s3_paths(ACTOR) == ["a.bin"]  # B sent nothing
