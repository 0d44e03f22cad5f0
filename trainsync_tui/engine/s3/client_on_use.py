"""An S3 client made only when first used: an audit whose objects came from a shared
listing may ask S3 nothing, and making a client costs ~25 ms of CPU (5 of the 7 s that
200 actors' audits took in the app, issue 23)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class ClientOnUse:
    """Stands for the client `make` returns, made when an attribute of it is first asked."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make()
        return getattr(self._client, name)
