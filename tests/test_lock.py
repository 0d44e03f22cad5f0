"""The README's commands install requirements/lock.txt, and the lock fits pyproject.toml: an
edit of pyproject.toml without scripts/update-lock fails here, not on a user's machine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
INSTALL = (
    "python3 -m venv .venv && .venv/bin/pip install --require-hashes -r requirements/lock.txt"
    " && .venv/bin/pip install --no-deps --no-build-isolation -e ."
)


def _locked() -> dict[str, list[str]]:
    """name -> the versions pinned for it (one per environment marker)."""
    pins: dict[str, list[str]] = {}
    text = (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")
    for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.MULTILINE):
        pins.setdefault(canonicalize_name(name), []).append(version)
    return pins


def _declared() -> list[Requirement]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)
    names = project["build-system"]["requires"] + project["project"]["dependencies"]
    for extra in project["project"]["optional-dependencies"].values():
        names += extra
    found = [Requirement(name) for name in names]
    return [r for r in found if canonicalize_name(r.name) != "trainsync"]


def test_every_declared_dependency_is_locked_within_its_range() -> None:
    locked = _locked()
    wrong = [
        f"{r}: locked {locked.get(canonicalize_name(r.name), 'nothing')}"
        for r in _declared()
        if not any(r.specifier.contains(v) for v in locked.get(canonicalize_name(r.name), []))
    ]
    assert not wrong, "run scripts/update-lock: " + "; ".join(wrong)


def test_every_locked_package_has_hashes() -> None:
    text = (ROOT / "requirements" / "lock.txt").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    unhashed = [e.split()[0] for e in entries if "==" in e and "--hash=sha256:" not in e]
    assert entries and not unhashed


def test_the_readme_commands_install_the_lock_and_ci_runs_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^python3 -m venv .*$", readme, re.MULTILINE)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]

    assert commands[:2] == [
        f"{INSTALL} && .venv/bin/trainsync demo",
        f"{INSTALL} && .venv/bin/pytest",
    ]
    assert ci == commands[1]
