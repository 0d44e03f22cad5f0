"""What every transfer of one run shares, as one value: its client and bucket, its cancel, the
--bwlimit limiter and whether its writes still carry conditions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.s3.conditions import Conditions, server_of
from trainsync_tui.engine.transfer.bandwidth import BandwidthLimiter


@dataclass(frozen=True)
class TransferContext:
    client: Any
    bucket: str
    cancel: CancelToken
    throttle: BandwidthLimiter
    # Shared by the run's puts, deletes and multipart completions: the first refusal turns
    # conditions off for all of them and warns once.
    conditions: Conditions

    @classmethod
    def for_run(
        cls,
        client: Any,
        bucket: str,
        cancel: CancelToken,
        *,
        throttle: BandwidthLimiter | None = None,
        warn: Callable[[str], None] | None = None,
        endpoint_url: str | None = None,
    ) -> TransferContext:
        """A run's context; without `throttle`, a limiter of its own with no limit."""
        return cls(
            client,
            bucket,
            cancel,
            throttle or BandwidthLimiter(),
            Conditions(warn, server_of(endpoint_url, bucket)),
        )


class InContext:
    """A class that keeps a run's TransferContext reads its parts by name."""

    context: TransferContext

    @property
    def client(self) -> Any:
        return self.context.client

    @property
    def bucket(self) -> str:
        return self.context.bucket

    @property
    def cancel(self) -> CancelToken:
        return self.context.cancel

    @property
    def throttle(self) -> BandwidthLimiter:
        return self.context.throttle

    @property
    def conditions(self) -> Conditions:
        return self.context.conditions
