"""The bench from a checkout: `python tests/bench/run.py --quick` (same as `trainsync bench`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from trainsync_tui.bench import run_bench

if __name__ == "__main__":
    raise SystemExit(run_bench(sys.argv[1:]))
