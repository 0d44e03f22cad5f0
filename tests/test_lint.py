"""The code bar is part of the suite: ruff clean, and modules short enough to read."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parent.parent


def _ruff() -> list[str]:
    beside = Path(sys.executable).parent / "ruff"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed (it comes with the test extra)")
    return [found]


def test_ruff_finds_nothing() -> None:
    result = subprocess.run(
        [*_ruff(), "check", "--no-cache", "trainsync_tui", "tests"],
        cwd=TOP,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_is_a_monolith() -> None:
    long = {
        str(p.relative_to(TOP)): n
        for p in (TOP / "trainsync_tui").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


def test_ruff_format_changes_nothing() -> None:
    result = subprocess.run(
        [*_ruff(), "format", "--check", "--no-cache", "trainsync_tui", "tests"],
        cwd=TOP,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
