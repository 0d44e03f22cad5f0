"""`python -m trainsync_tui.bench --quick`: the bench without going through the CLI parser."""

from __future__ import annotations

import sys

from trainsync_tui.bench import run_bench

raise SystemExit(run_bench(sys.argv[1:]))
