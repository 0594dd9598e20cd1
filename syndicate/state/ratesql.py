"""The embedded client-side rate limiter: the Redis limiter's rules, kept in the ledger's database.

Without Redis, `syndicate push` (and `watch`) still never sends faster than a
platform's documented windows (`Limits.rates`, lowered by `rate_limits` in the
config), and still slows down when the platform's headers say it is running
low. The state lives in the ledger's database (tables `rate_grants` and
`rate_pauses`, migration 0006), so two processes sharing one ledger share one
budget per account; `memory_engine()` gives one private to the process.

The interface is `ratelimit.RateLimiter`'s (`acquire`, `require`, `observe`,
`penalize`, `stats`, `clear`), and the windows are planned by the same code
(`_plan`: scaled lengths, the margin after each window, cost per kind), so a
connector is throttled the same way with or without Redis. Each `acquire` is
one transaction that locks the account first (PostgreSQL: an advisory lock;
SQLite: the database's write lock, taken by the first statement, a write), then
checks the pauses and every window and takes all of them or none. The pacing
queue of the Redis limiter (spreading bursts across workers) is not kept: a
window is never overrun, which is what the platform counts. A grant is dated
again when its call is answered or fails (`landed`): the platform counts a call
when it arrives, which may be long after the grant.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from syndicate.errors import Transient
from syndicate.state.ledger.schema import rate_grants, rate_pauses
from syndicate.state.limits import RateLimit
from syndicate.state.ratelimit import RateLimiter, WindowStats, budget_of, margin

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["SqlRateLimiter", "memory_engine"]

ACCOUNT = "*"  # the scope of a pause that holds every call of the account


def memory_engine() -> Engine:
    """A limiter private to this process (no ledger at hand): an in-memory SQLite, one connection."""
    from syndicate.state.ledger.schema import metadata

    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool,
                              connect_args={"check_same_thread": False})
    metadata.create_all(engine, tables=[rate_grants, rate_pauses])
    return engine


def _hashed(account: str) -> str:
    return hashlib.sha256(account.encode("utf-8")).hexdigest()[:32]


class SqlRateLimiter(RateLimiter):
    """Per-account windows in the ledger's database (SQLite or PostgreSQL). Never blocks."""

    calm_rides_along = False  # its `acquire` knows no pending calm: `observe` writes it at once

    def __init__(self, engine: Engine | Callable[[], Engine], *, time_scale: float = 1.0,
                 clock: Callable[[], float] | None = None) -> None:
        """`engine`, or what makes it on first use (a connector that only renders opens no ledger)."""
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {time_scale!r}")
        self._engine = engine
        self.namespace = "sql"
        self.time_scale = time_scale
        self.pace = False
        self.clock = clock
        self._plans: dict[tuple[tuple[RateLimit, ...], str, int], tuple[list[Any], float, float]] = {}
        self._calm: set[tuple[str, str | None]] = set()
        self._local = threading.Lock()  # one acquire at a time in this process (SQLite's lock is per connection)
        self._granted = threading.local()  # this thread's last grant: (account, time, windows), for `landed`

    def __repr__(self) -> str:  # never the URL: it may hold a password
        return f"SqlRateLimiter(time_scale={self.time_scale})"

    @property
    def engine(self) -> Engine:
        if callable(self._engine):
            self._engine = self._engine()
        return self._engine

    def _time(self) -> float:
        return time.time() if self.clock is None else self.clock()

    def _locked(self, conn: Connection, account: str) -> None:
        """Serialise every writer of one account's state until the transaction ends."""
        if conn.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(("syndicate-rate:" + account).encode()).digest()[:8], "big",
                                 signed=True)
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        else:  # a write first: SQLite takes the database's write lock here, and keeps it to the commit
            conn.execute(rate_pauses.delete().where(rate_pauses.c.account == account, rate_pauses.c.until < 0))

    def acquire(self, account: str, kind: str, rates: Sequence[RateLimit], cost: int = 1) -> float:
        """Take a slot in every window for `kind` (and "request"), or none: 0.0, or seconds to wait."""
        windows, _spacing, _burst = self._plan(rates, kind, cost)
        who = _hashed(account)
        try:
            with self._local, self.engine.begin() as conn:
                self._locked(conn, who)
                now = self._time()
                wait = self._paused(conn, who, kind, now)
                if wait > 0:
                    return wait
                longest = max((w.seconds for w in windows), default=0.0)
                conn.execute(rate_grants.delete().where(rate_grants.c.account == who,
                                                        rate_grants.c.at <= now - max(longest, 1.0) - 1.0))
                for w in windows:
                    grants = conn.execute(
                        sa.select(rate_grants.c.at, rate_grants.c.units)
                        .where(rate_grants.c.account == who, rate_grants.c.window == w.name,
                               rate_grants.c.at > now - w.seconds)
                        .order_by(rate_grants.c.at)
                    ).all()
                    used = sum(g.units for g in grants)
                    over = used + w.units - w.amount
                    for at, units in grants:  # the oldest grants leave first
                        if over <= 0:
                            break
                        over -= units
                        wait = max(wait, at + w.seconds - now)
                if wait > 0:
                    return max(wait, 0.001)
                if windows:
                    conn.execute(rate_grants.insert(), [
                        {"account": who, "window": w.name, "at": now, "units": w.units} for w in windows])
                    self._granted.last = (who, now, [w.name for w in windows])
                self._space(conn, who, kind, now)
                return 0.0
        except sa.exc.OperationalError as exc:
            if "full" in str(exc).lower():
                raise  # the ledger's disk is full: the run stops and says so (syndicate.engine.inline)
            raise Transient(f"rate limiter: the ledger's database is unavailable ({type(exc).__name__})") from None

    def landed(self, account: str) -> None:
        """Date this thread's last grant for `account` from now: the platform counts a call when it arrives,
        which may be long after its grant (a stalled process, a slow network), so a window counted from
        the grant could free a slot the platform still sees taken. From the answer, it never does."""
        last = getattr(self._granted, "last", None)
        if last is None or last[0] != _hashed(account):
            return
        self._granted.last = None
        who, at, names = last
        now = self._time()
        if now <= at:
            return
        try:
            with self._local, self.engine.begin() as conn:
                conn.execute(rate_grants.update()
                             .where(rate_grants.c.account == who, rate_grants.c.at == at,
                                    rate_grants.c.window.in_(names))
                             .values(at=now))
        except sa.exc.OperationalError:
            pass  # best effort: the grant keeps its own time (a full disk is said by the ledger's next write)

    def _paused(self, conn: Connection, who: str, kind: str, now: float) -> float:
        wait = 0.0
        for row in conn.execute(sa.select(rate_pauses).where(rate_pauses.c.account == who,
                                                             rate_pauses.c.scope.in_([ACCOUNT, kind]))):
            wait = max(wait, row.until - now)
            if row.gap > 0 and row.gap_until > now:
                wait = max(wait, row.next_at - now)
        return wait

    def _space(self, conn: Connection, who: str, kind: str, now: float) -> None:
        """A spaced account (low remaining): the next call waits `gap` after this one."""
        conn.execute(rate_pauses.update()
                     .where(rate_pauses.c.account == who, rate_pauses.c.scope.in_([ACCOUNT, kind]),
                            rate_pauses.c.gap > 0, rate_pauses.c.gap_until > now)
                     .values(next_at=now + rate_pauses.c.gap))

    def _set(self, account: str, kind: str | None, pause: float, gap: float, reset: float, calm: bool) -> None:
        who, scope = _hashed(account), kind or ACCOUNT
        try:
            with self._local, self.engine.begin() as conn:
                self._locked(conn, who)
                now = self._time()
                row = conn.execute(sa.select(rate_pauses).where(rate_pauses.c.account == who,
                                                                rate_pauses.c.scope == scope)).first()
                until = max(row.until if row is not None else 0.0, now + pause if pause > 0 else 0.0)
                if calm:
                    values = {"until": until, "gap": 0.0, "gap_until": 0.0, "next_at": 0.0}
                elif gap > 0:
                    values = {"until": until, "gap": gap, "gap_until": now + reset,
                              "next_at": row.next_at if row is not None else 0.0}
                else:
                    values = {"until": until, **({"gap": row.gap, "gap_until": row.gap_until, "next_at": row.next_at}
                                                 if row is not None else {"gap": 0.0, "gap_until": 0.0, "next_at": 0.0})}
                if row is None:
                    conn.execute(rate_pauses.insert().values(account=who, scope=scope, **values))
                else:
                    conn.execute(rate_pauses.update().where(rate_pauses.c.account == who,
                                                            rate_pauses.c.scope == scope).values(**values))
        except sa.exc.OperationalError as exc:
            if "full" in str(exc).lower():
                raise
            raise Transient(f"rate limiter: the ledger's database is unavailable ({type(exc).__name__})") from None

    def stats(self, account: str, rate: RateLimit) -> WindowStats:
        """When one window's oldest grant leaves and how many units it has left."""
        length = self.seconds(rate.seconds)
        window = length + margin(length)
        now = self._time()
        with self.engine.connect() as conn:
            used, oldest = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(rate_grants.c.units), 0), sa.func.min(rate_grants.c.at))
                .where(rate_grants.c.account == _hashed(account),
                       rate_grants.c.window == f"{budget_of(rate)}:{length:g}", rate_grants.c.at > now - window)
            ).one()
        return WindowStats(float(oldest) + window if oldest is not None else now, rate.amount - int(used))

    def lift(self, account: str) -> None:
        """Forget the pauses the platform's headers set (`push --now`); the windows stay."""
        with self.engine.begin() as conn:
            conn.execute(rate_pauses.delete().where(rate_pauses.c.account == _hashed(account)))

    def clear(self, account: str) -> int:
        """Forget an account's windows and pauses."""
        who = _hashed(account)
        with self.engine.begin() as conn:
            gone = conn.execute(rate_grants.delete().where(rate_grants.c.account == who)).rowcount
            gone += conn.execute(rate_pauses.delete().where(rate_pauses.c.account == who)).rowcount
        return int(gone)
