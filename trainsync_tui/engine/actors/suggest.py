"""'did you mean ...' for an actor name that matches no actor, locally or in S3."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def did_you_mean(names: Sequence[str], name: str) -> str:
    """A hint like "did you mean '0042_european_30_male'? " for a typo or a bare id among the
    actor `names`, or ""."""
    close = [n for n in names if n.split("_", 1)[0] == name][:3]
    close = close or difflib.get_close_matches(name, names, n=3, cutoff=0.75)
    return f"did you mean {' or '.join(repr(n) for n in close)}? " if close else ""
