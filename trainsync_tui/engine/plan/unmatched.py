"""--only and --exclude patterns that match no file of an actor: a typo in a cron job's
pattern must be an error naming the pattern and the nearest paths, never "nothing to do".
The CLI and the HTTP API say it in the same words."""

from __future__ import annotations

from trainsync_tui.engine.actors.suggest import nearest_paths
from trainsync_tui.engine.plan.select import Selection, in_scope
from trainsync_tui.engine.scanned import Listings


def patterns(selection: Selection) -> list[tuple[str, str]]:
    """The --only and --exclude patterns as (flag, pattern)."""
    return [("--only", p) for p in selection.only] + [("--exclude", p) for p in selection.exclude]


def typed(flag: tuple[str, str]) -> str:
    return f"{flag[0]} {flag[1]!r}"


def unmatched_patterns(listings: Listings, selection: Selection) -> list[tuple[str, str]]:
    """The --only and --exclude patterns that match no path of the actor, locally, in S3 or
    in its manifest. A pattern matching paths that are in sync is fine: only one that
    matches nothing at all is a typo."""
    sources = (listings.local, listings.remote, listings.manifest)
    return [
        (flag, pattern)
        for flag, pattern in patterns(selection)
        if not any(
            in_scope(Selection(only=(pattern,)), path) for source in sources for path in source
        )
    ]


def no_match_message(wrong: list[tuple[str, str]], paths: set[str], actor: str) -> str:
    """One line: which patterns matched nothing, and the paths nearest each."""
    what = " and ".join(
        f"{typed(f)} (nearest: {', '.join(repr(p) for p in nearest_paths(paths, f[1]))})"
        if paths
        else typed(f)
        for f in wrong
    )
    verb = "matches" if len(wrong) == 1 else "match"
    if not paths:
        return f"{what} {verb} no file of {actor}: it has none locally, in S3 or in its manifest"
    return (
        f"{what} {verb} no file of {actor} locally, in S3 or in its manifest; "
        "check the pattern (paths are relative to training_data/)"
    )
