"""`trainsync bench`: trainsync side by side with aws s3 sync, s5cmd and rclone on loopback S3."""

from __future__ import annotations


def run_bench(argv: list[str]) -> int:
    """Run the bench with command-line arguments; write bench.md and bench.json; 0 when done."""
    from trainsync_tui.bench.options import parse
    from trainsync_tui.bench.report import markdown, write
    from trainsync_tui.bench.runner import run_all, say
    from trainsync_tui.bench.server import nanio_missing

    options = parse(argv)
    missing = nanio_missing("trainsync bench")
    if missing:
        print(missing)
        return 2
    result = run_all(options)
    md, js = write(result, options.out)
    print(markdown(result))
    say(f"wrote {md} and {js}")
    failed = [m for m in result.measurements if not m.ok]
    return 1 if failed else 0


__all__ = ["run_bench"]
