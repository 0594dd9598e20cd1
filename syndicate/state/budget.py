"""A monthly spending limit for platforms that charge per request (X), shared by every worker.

A connector prices its requests (`Request.price`, USD). A target whose options set
`monthly_budget` gets a `Budget` from the engine (`Syndicator.connector`), and
`Connector.send` calls `charge(price)` before each priced request: it takes the
amount from the month's allowance, or raises `BudgetSpent` (a `Throttled` whose
`retry_after` runs to the 1st of next month, 00:00 UTC), so the unit is deferred
in the ledger with a reason naming the budget and the day it resets. A request
the platform refuses (an error status, or no connection at all) is given back
with `refund`; a lost answer is kept as spent (it may have been charged).

What was spent lives with the shared limiter: in Redis when one is configured
(one key per account and month, checked and added in one Lua script, so no two
workers overspend), else in a 0600 file of the data folder under an exclusive
`flock` (every process on this machine). Amounts are kept in micro-dollars.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from syndicate.errors import Throttled, Transient

__all__ = ["Budget", "BudgetSpent", "BudgetStore", "FileSpending", "RedisSpending", "month_of", "resets_at",
           "spending_for"]

MICRO = 1_000_000
FILE_NAME = "budget.json"
KEEP_SECONDS = 40 * 86400  # a month's record outlives its month a little

# KEYS[1]: the month's total (micro-dollars). ARGV: amount, limit (-1: none), ttl seconds.
# Returns -1 when taken, else the total so far (nothing taken).
_TAKE = """
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
if limit >= 0 and spent + amount > limit then return spent end
redis.call('INCRBY', KEYS[1], amount)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return -1
"""


class BudgetSpent(Throttled):
    """The month's budget has no room for this request: nothing was sent; wait for the reset."""


def month_of(now: float) -> str:
    """The UTC month of an epoch time: "2026-12"."""
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m")


def resets_at(now: float) -> datetime:
    """The 1st of the next UTC month, 00:00."""
    day = datetime.fromtimestamp(now, UTC)
    return datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC)


class BudgetStore(Protocol):
    """Where the month's spending is counted (micro-dollars)."""

    def take(self, account: str, month: str, amount: int, limit: int) -> int | None:
        """Add `amount` unless the total would pass `limit`: None when taken, else the total so far."""
        ...

    def give(self, account: str, month: str, amount: int) -> None: ...

    def spent(self, account: str, month: str) -> int: ...


class RedisSpending:
    """Spending in Redis: every worker on every machine counts against one total."""

    def __init__(self, redis_url: str | Any, prefix: str = "syndicate:budget:") -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url) if isinstance(redis_url, str) else redis_url
        self._take = self._redis.register_script(_TAKE)
        self._prefix = prefix

    def __repr__(self) -> str:  # never the URL: it may hold a password
        return f"RedisSpending(prefix={self._prefix!r})"

    def _key(self, account: str, month: str) -> str:
        return f"{self._prefix}{account}:{month}"

    def take(self, account: str, month: str, amount: int, limit: int) -> int | None:
        try:
            total = int(self._take(keys=[self._key(account, month)], args=[amount, limit, KEEP_SECONDS]))
        except Exception as exc:  # redis.RedisError: the budget cannot be checked, so nothing is sent
            raise Transient(f"budget: Redis unavailable ({type(exc).__name__})") from None
        return None if total < 0 else total

    def give(self, account: str, month: str, amount: int) -> None:
        with contextlib.suppress(Exception):  # a refund lost to an outage only makes the budget stricter
            self._redis.decrby(self._key(account, month), amount)

    def spent(self, account: str, month: str) -> int:
        try:
            raw = self._redis.get(self._key(account, month))
        except Exception as exc:
            raise Transient(f"budget: Redis unavailable ({type(exc).__name__})") from None
        return int(raw or 0)


class FileSpending:
    """Spending in a file of the data folder, under a `flock`: every process on this machine."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FILE_NAME

    def take(self, account: str, month: str, amount: int, limit: int) -> int | None:
        with self._locked() as data:
            spent = int(data.get(account, {}).get(month, 0))
            if limit >= 0 and spent + amount > limit:
                return spent
            data[account] = {month: spent + amount}  # older months are dropped
            self._write(data)
            return None

    def give(self, account: str, month: str, amount: int) -> None:
        with self._locked() as data:
            spent = int(data.get(account, {}).get(month, 0))
            if spent:
                data[account] = {month: max(0, spent - amount)}
                self._write(data)

    def spent(self, account: str, month: str) -> int:
        if not self.path.exists():
            return 0
        with self._locked(shared=True) as data:
            return int(data.get(account, {}).get(month, 0))

    @contextlib.contextmanager
    def _locked(self, shared: bool = False) -> Iterator[dict[str, Any]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            yield data if isinstance(data, dict) else {}
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, sort_keys=True)
        os.replace(tmp, self.path)


def spending_for(redis_url: str | None, data_dir: Path) -> BudgetStore:
    """The shared store: Redis when configured, else the data folder's file."""
    return RedisSpending(redis_url) if redis_url else FileSpending(data_dir)


def _micro(usd: float) -> int:
    return max(0, round(usd * MICRO))


class Budget:
    """One target account's monthly allowance, called by `Connector.send` around each priced request."""

    def __init__(self, store: BudgetStore, account: str, limit: float, name: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.account = account
        self.limit = float(limit)
        self.name = name  # the target, for messages
        self.clock = clock

    def __repr__(self) -> str:
        return f"Budget({self.name!r}, monthly={self.limit:.2f} USD)"

    def charge(self, price: float) -> None:
        """Take `price` from this month's allowance, or raise `BudgetSpent` until the reset."""
        now = self.clock()
        total = self.store.take(self.account, month_of(now), _micro(price), _micro(self.limit))
        if total is None:
            return
        reset = resets_at(now)
        raise BudgetSpent(
            f"{self.name}: monthly_budget of {self.limit:.2f} USD reached ({total / MICRO:.3f} USD spent in "
            f"{month_of(now)}; this request costs {price:.3f} USD): waits until the budget resets on "
            f"{reset.date().isoformat()}", max(1.0, reset.timestamp() - now))

    def refund(self, price: float) -> None:
        """Give back what a refused request took."""
        self.store.give(self.account, month_of(self.clock()), _micro(price))

    def spent(self, now: float | None = None) -> float:
        """USD spent in the month of `now`."""
        return self.store.spent(self.account, month_of(self.clock() if now is None else now)) / MICRO

    def left(self, now: float | None = None) -> float:
        return max(0.0, self.limit - self.spent(now))
