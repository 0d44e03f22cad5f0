"""Every sync recorded, one JSON line each, in <root>/.trainsync/history.jsonl."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from trainsync_tui.engine.errors import redact

HISTORY_NAME = "history.jsonl"


def append_history(state_dir: Path, entry: dict[str, Any]) -> None:
    """One O_APPEND write per entry, so concurrent runs never interleave a line."""
    state_dir.mkdir(parents=True, exist_ok=True)
    text = redact(json.dumps(entry, ensure_ascii=False, sort_keys=True))
    line = (text + "\n").encode("utf-8")
    fd = os.open(state_dir / HISTORY_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_history(
    state_dir: Path, actor: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Newest first; lines cut short by a crash are skipped."""
    try:
        lines = (state_dir / HISTORY_NAME).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    entries: list[dict[str, Any]] = []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if actor is None or entry.get("actor") == actor:
            entries.append(entry)
            if len(entries) >= limit:
                break
    return entries
