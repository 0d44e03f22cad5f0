"""'did you mean ...' for an actor name that matches no actor, locally or in S3, and the
nearest paths for a path pattern that matches no file of an actor."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


def did_you_mean(names: Sequence[str], name: str) -> str:
    """A hint like "did you mean '0042_european_30_male'? " for a typo, a bare id, a cut-off
    name ("0042_europ") or a right id with a wrong rest among the actor `names`, or ""."""
    actor_id = name.split("_", 1)[0]
    # A cut-off name is far from the whole in difflib's ratio (10 of 21 letters is 0.65),
    # yet it is the commonest typo after tab completion stopped at a shared prefix.
    close = [n for n in names if n.startswith(name)][:3]
    close = close or [n for n in names if actor_id.isdigit() and n.split("_", 1)[0] == actor_id]
    close = close[:3] or difflib.get_close_matches(name, names, n=3, cutoff=0.75)
    return f"did you mean {' or '.join(repr(n) for n in close)}? " if close else ""


def nearest_paths(paths: Iterable[str], pattern: str, n: int = 3) -> list[str]:
    """The `n` existing paths (or folders, as "a/b/") most like `pattern`, a glob or a path
    that matched none of `paths`; each is cut to as many levels as the pattern has, so
    "sesion_*" is compared with "session_01/", not with every file inside it."""
    depth = len(pattern.strip("/").split("/"))
    candidates: set[str] = set()
    for path in paths:
        parts = path.split("/")
        candidates.add("/".join(parts[:depth]) + ("/" if len(parts) > depth else ""))
    ordered = sorted(candidates)
    close = difflib.get_close_matches(pattern, ordered, n=n, cutoff=0.4)
    # Ties come back in reverse order of the names: sort them as a listing reads.
    close.sort(key=lambda c: (-difflib.SequenceMatcher(None, c, pattern).ratio(), c))
    return close or ordered[:n]
