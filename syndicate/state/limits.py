"""A platform's documented rate limit as data, and the Retry-After header read into seconds.

Value types only: the contract (`syndicate.contract`) re-exports them for connectors; the limiters
in `syndicate.state` use them without knowing any connector.
"""
from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """A documented limit: `amount` requests of `kind` per `seconds`, per account."""

    kind: str  # "create", "update", "request", "media", "write-points"...
    amount: int
    seconds: int
    cost: int = 1


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))
