"""The rules of rate limits, without Redis: config overrides and platforms' rate-limit headers.

`effective_rates` lowers a connector's declared windows (`Limits.rates`) from
the config's `rate_limits` table (`{create = "5/30s"}`) and refuses raising
them; `read_headers` reads what a response says about the account's quota
(X-RateLimit-*, x-rate-limit-*, RateLimit-* with epoch, delta or ISO resets,
the IETF draft's `RateLimit`). `syndicate.state.ratelimit` applies both.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from syndicate.errors import ConfigError
from syndicate.state.limits import RateLimit

REQUEST = "request"
OPERATION_KINDS = frozenset({"create", "update", "delete", "request", "media"})


class RateSpecError(ConfigError, ValueError):
    """A `rate_limits` override that cannot be used; the message says which and why."""


# --- config overrides ---------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SPEC = re.compile(
    r"^\s*(\d+)\s*(?:/|per\b)\s*(\d+(?:\.\d+)?)?\s*"
    r"(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\s*$",
    re.IGNORECASE,
)
_SPEC_HELP = 'use "N/30s", "N/5m", "N/1h", "N/1d" or "N per 30 seconds"'


def parse_rate(text: str) -> tuple[int, int]:
    """`"10/30s"`, `"300/5m"`, `"5 per 30 seconds"` → (amount, seconds)."""
    match = _SPEC.match(text) if isinstance(text, str) else None
    if not match:
        raise RateSpecError(f"{text!r} is not a rate ({_SPEC_HELP})")
    amount = int(match.group(1))
    seconds = float(match.group(2) or 1) * _UNITS[match.group(3)[0].lower()]
    if amount < 1:
        raise RateSpecError(f"{text!r}: the amount must be at least 1")
    if seconds < 1 or seconds != int(seconds):
        raise RateSpecError(f"{text!r}: the window must be a whole number of seconds, at least 1")
    return amount, int(seconds)


def budget_of(rate: RateLimit) -> str:
    """The budget a window draws from: "write-points" for kind "write-points:create"."""
    return rate.kind.split(":", 1)[0]


def applies_to(rate: RateLimit) -> str:
    """The call kind a window is charged for: "create" for kind "write-points:create"."""
    return rate.kind.rsplit(":", 1)[-1]


# the call kinds a new copy is charged for, across the connectors (a post, a Threads publish, a message)
CREATE_KINDS = frozenset({"create", "publish", "post", "message", "request"})


def least_seconds(rates: Sequence[RateLimit], creates: int) -> float:
    """The shortest time `creates` new copies can take under `rates`: ceil(n × cost / amount) - 1 full
    windows of the tightest one (0 when one window holds them all)."""
    worst = 0.0
    for rate in rates:
        if applies_to(rate) in CREATE_KINDS and rate.amount > 0:
            worst = max(worst, (math.ceil(creates * rate.cost / rate.amount) - 1) * float(rate.seconds))
    return worst


def _fmt(amount: int, seconds: int) -> str:
    return f"{amount}/{seconds}s"


def effective_rates(
    declared: Sequence[RateLimit], config_overrides: Mapping[str, Any] | None, where: str = "rate_limits"
) -> tuple[RateLimit, ...]:
    """The declared windows, lowered by the config (`{create = "5/30s"}`); raising is refused.

    An override replaces every declared window of that kind (or budget). It must
    never allow more than a declared window in any span of that window's length.
    """
    if not config_overrides:
        return tuple(declared)
    if not isinstance(config_overrides, Mapping):
        raise RateSpecError(f"{where}: expected a table like {{ create = \"5/30s\" }}")
    rates = list(declared)
    for name, spec in config_overrides.items():
        try:
            amount, seconds = parse_rate(spec)
        except RateSpecError as exc:
            raise RateSpecError(f"{where}.{name}: {exc}") from None
        hits = [i for i, r in enumerate(rates) if r.kind == name or budget_of(r) == name]
        if not hits:
            if name not in OPERATION_KINDS:
                known = sorted(OPERATION_KINDS | {budget_of(r) for r in declared})
                raise RateSpecError(f"{where}.{name}: unknown kind (known: {', '.join(known)})")
            rates.append(RateLimit(name, amount, seconds))
            continue
        for i in hits:
            old = rates[i]
            # the most a moving window of (amount, seconds) admits in a span of old.seconds
            most = amount * math.ceil(old.seconds / seconds)
            if most > old.amount:
                raise RateSpecError(
                    f"{where}.{name}: {spec!r} could allow {most} per {old.seconds}s, above the "
                    f"platform's documented {_fmt(old.amount, old.seconds)}; overrides may only lower it"
                )
            if old.cost > amount:
                raise RateSpecError(
                    f"{where}.{name}: {spec!r} is below the cost of one {applies_to(old)} ({old.cost})"
                )
            rates[i] = replace(old, amount=amount, seconds=seconds)
    return tuple(dict.fromkeys(rates))


# --- headers --------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*$")
_PARAM = re.compile(r"(?:^|[;,\s])(r|t|q|limit|remaining|reset)\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_LEADING = re.compile(r"^\s*(\d+)\s*(?:;|$)")
_FAMILIES = ("x-ratelimit-", "x-rate-limit-", "ratelimit-")


class Quota(NamedTuple):
    """What one family of rate-limit headers says: limit, remaining, seconds to reset."""

    limit: int | None
    remaining: int | None
    reset: float | None


def _reset_delta(raw: str | None, now: float) -> float | None:
    """Seconds until a reset given as delta seconds, epoch seconds or an ISO 8601 time."""
    if not raw:
        return None
    match = _NUMBER.match(raw)
    if match:
        number = float(match.group(1))
        return max(0.0, number - now) if number > 1e9 else max(0.0, number)
    try:
        when = datetime.fromisoformat(raw.strip())  # Mastodon: 2026-11-28T17:00:00.000Z
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _int(raw: str | None) -> int | None:
    match = _NUMBER.match(raw) if raw else None
    return int(float(match.group(1))) if match else None


def _params(value: str) -> dict[str, str]:
    return {k.lower(): v for k, v in _PARAM.findall(value)}


def _policy_limit(policy: str | None) -> int | None:
    """The quota of `RateLimit-Policy`: `5000;w=3600` (Bluesky) or `"default";q=100;w=60` (IETF)."""
    if not policy:
        return None
    lead = _LEADING.match(policy)
    return _int(lead.group(1) if lead else _params(policy).get("q"))


def read_headers(headers: Mapping[str, str], now: float | None = None) -> list[Quota]:
    """Every quota a response states, one per header family present.

    X-RateLimit-* (Mastodon, Discord), x-rate-limit-* (X), RateLimit-*
    (Bluesky, IETF draft) and the IETF draft's single `RateLimit` header.
    """
    now = time.time() if now is None else now
    h = {k.lower(): v for k, v in headers.items() if k[:1] in "xXrR"}
    found = []
    for prefix in _FAMILIES:
        limit, remaining = _int(h.get(prefix + "limit")), _int(h.get(prefix + "remaining"))
        reset = _reset_delta(h.get(prefix + "reset-after"), now)  # Discord: seconds
        if reset is None:
            reset = _reset_delta(h.get(prefix + "reset"), now)
        if limit is None and prefix == "ratelimit-":
            limit = _policy_limit(h.get("ratelimit-policy"))
        if remaining is not None or reset is not None:
            found.append(Quota(limit, remaining, reset))
    if "ratelimit" in h:
        params = _params(h["ratelimit"])
        remaining = _int(params.get("r") or params.get("remaining"))
        reset = _reset_delta(params.get("t") or params.get("reset"), now)
        limit = _int(params.get("limit")) or _policy_limit(h.get("ratelimit-policy"))
        if remaining is not None or reset is not None:
            found.append(Quota(limit, remaining, reset))
    return found


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header by its lower-case name, whatever case the response used."""
    value = headers.get(name)
    if value is None:
        for key, val in headers.items():
            if key.lower() == name:
                return val
    return value
