"""Hostile and bad input: a clear error per path, nothing written outside, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.hostile import run_case
from tests.reliability.hostile_cases import CASES
from tests.s3server import S3Server


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_refused_cleanly(name: str, s3_server: S3Server, tmp_path: Path) -> None:
    run = run_case(name, s3_server.url, tmp_path)

    if run.skipped:
        pytest.skip(run.skipped)
    assert run.problems == []
    assert run.outside == 0 and run.lost == 0
