"""Leases on ledger rows that follow live processes.

A unit of work holds its (post, target) row by a lease: an owner string and a
short expiry, renewed by one background thread (`Keeper`) while the unit runs.
A holder that dies stops renewing, so its rows are free within one TTL; a
holder on this machine whose process is gone (its pid no longer runs the same
program) is taken over at once. The owner names the process and how to check it:

    host | node | pid | start [| unit]

`node` tells processes that share a kernel and a pid namespace (only those can
look each other's pids up), `start` is the process's start time (so a reused
pid is not mistaken for the holder), and `unit` tells apart the units of one
process (two threads of a worker must not share a row).
"""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from syndicate.state.ledger.rows import Row, utcnow

if TYPE_CHECKING:
    from syndicate.config import Config
    from syndicate.state.ledger import Ledger

log = logging.getLogger(__name__)
SEP = "|"
UNIT_TIMEOUTS = 10  # a unit's requests: at most this many [http] timeouts end to end
LEASED = "held by another process"  # how a skip for a live lease starts its reason
MAX_COUNTDOWN = 120.0  # the longest wait a task is held in the broker (RetryPolicy.max_wait)


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, read back from its owner string."""

    host: str
    node: str
    pid: int
    start: str
    unit: str

    def __str__(self) -> str:
        return f"pid {self.pid} on {self.host}"


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), "" where unknown, None if no such pid."""
    stat = _read(f"/proc/{pid}/stat")
    if stat:
        # the command name (field 2) is in parentheses and may hold spaces: count from the last ")"
        fields = stat.rsplit(")", 1)[-1].split()
        return fields[19] if len(fields) > 19 else ""
    if os.path.isdir("/proc/self"):
        return None  # /proc works and has no such pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return ""


@lru_cache(maxsize=1)
def _node() -> str:
    """Processes with the same node share a kernel boot and a pid namespace."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    seed = f"{_read('/proc/sys/kernel/random/boot_id')}:{namespace}:{socket.gethostname()}"
    return hashlib.sha256(seed.encode()).hexdigest()[:10]


_process: dict[int, str] = {}


def process_owner() -> str:
    """This process, as a lease owner (made once per pid: a forked child gets its own)."""
    pid = os.getpid()
    if pid not in _process:
        host = socket.gethostname().replace(SEP, "-")[:48]
        _process[pid] = SEP.join([host, _node(), str(pid), _start_time(pid) or ""])
    return _process[pid]


def unit_owner() -> str:
    """One unit of work of this process: its own owner, so that no other unit shares the row."""
    return f"{process_owner()}{SEP}{secrets.token_hex(4)}"


def parse(owner: str | None) -> Holder | None:
    """The holder an owner string names; None for an owner of another shape (an older version's)."""
    parts = (owner or "").split(SEP)
    if len(parts) not in (4, 5) or not parts[2].isdigit():
        return None  # a process owner has no unit part
    return Holder(parts[0], parts[1], int(parts[2]), parts[3], parts[4] if len(parts) == 5 else "")


def alive(owner: str | None) -> bool | None:
    """Whether the holding process still runs: True or False where this process can tell, else None."""
    holder = parse(owner)
    if holder is None or holder.node != _node():
        return None  # another machine, container or pid namespace: only the expiry tells
    now = _start_time(holder.pid)
    if now is None:
        return False
    return not (holder.start and now and now != holder.start)  # a reused pid is another process


def taken_over(owner: str) -> bool:
    """May a lease held by `owner` be taken before it expires? Only when its process is gone."""
    return alive(owner) is False


def held(owner: str | None, until: datetime | None, now: datetime | None = None) -> bool:
    """Whether a row's lease stops others now: unexpired, and not held by a process known dead."""
    if owner is None or until is None or until <= (now or utcnow()):
        return False
    return alive(owner) is not False


def describe(owner: str | None, until: datetime | None, now: datetime | None = None) -> str:
    """ "pid 4242 on web-1 until 12:00:31 UTC (in 21s)": who holds a row and until when."""
    now = now or utcnow()
    holder = parse(owner)
    who = str(holder) if holder is not None else (owner or "nobody")
    if until is None:
        return who
    left = (until - now).total_seconds()
    when = until.strftime("%H:%M:%S UTC")
    return f"{who} until {when} (in {left:.0f}s, renewed while it works)" if left > 0 else f"{who} until {when}"


def unit_limit(config: Config) -> float:
    """The longest one unit may hold its row: `UNIT_TIMEOUTS` × the [http] timeout.

    Past it the lease is no longer renewed, so a unit stuck beyond every
    timeout frees its row; the broker's visibility timeout is derived from it.
    """
    return UNIT_TIMEOUTS * float(config.http.timeout)


def max_countdown(config: Config) -> float:
    """The longest a task waits in the broker before its next try; longer waits go to the ledger."""
    vt = config.queue.visibility_timeout
    if vt is not None:
        return min(MAX_COUNTDOWN, float(vt) / 4)
    return min(MAX_COUNTDOWN, unit_limit(config))


def visibility_timeout(config: Config) -> float:
    """`[queue] visibility_timeout`, else the longest task the engine allows: its longest countdown,
    its longest unit, and a margin (a tenth, at least 5 s)."""
    if config.queue.visibility_timeout is not None:
        return float(config.queue.visibility_timeout)
    longest = max_countdown(config) + unit_limit(config)
    return longest + max(5.0, longest / 10)


def stale_after(config: Config) -> float:
    """How long a row may wait with no live lease before the periodic job sends it again."""
    if config.queue.stale_after is not None:
        return float(config.queue.stale_after)
    return visibility_timeout(config) + float(config.queue.scan_interval)


def unfinished(row: Row) -> bool:
    """Whether work on the row was started or asked for and is not done (`Ledger.unfinished`)."""
    if row.state in ("queued", "creating"):
        return True
    return row.state == "new" and bool(row.lease_owner or row.attempts or row.last_error)


def next_step(row: Row, config: Config, now: datetime | None = None) -> str:
    """What happens next to an unfinished row, and by when: only a time the system keeps by itself
    (the periodic job's re-send), and the last try's error without the wait it announced then."""
    now = now or utcnow()
    if held(row.lease_owner, row.lease_until, now):
        said = f"being sent by {describe(row.lease_owner, row.lease_until, now)}"
    elif not config.broker:
        said = "not sent yet: the next `syndicate push` or `watch` sends it"
    else:
        since = row.updated_at or now
        due = since + timedelta(seconds=stale_after(config))
        if due > now:
            said = (f"waiting for a worker since {since:%H:%M:%S} UTC; if no worker takes it, "
                    f"the periodic job sends it again at {due:%H:%M:%S} UTC")
        else:
            said = (f"overdue: no worker took it and the periodic job has not sent it again since "
                    f"{due:%H:%M:%S} UTC; is `syndicate beat` (or `worker -B`) running?")
    if row.last_error:
        ago = (now - row.updated_at).total_seconds() if row.updated_at else 0.0
        last = "rate limited" if row.error_kind == "rate-limited" else row.last_error
        said += f" (last try {ago:.0f}s ago: {last})"
    return said


@dataclass
class _Held:
    ledger: Ledger
    post_id: str
    target: str
    owner: str
    ttl: float
    deadline: float  # monotonic: no renewal past it
    lost: bool = False


class Keeper:
    """One daemon thread that renews the leases this process holds, every third of their TTL."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._held: dict[tuple[int, str, str, str], _Held] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._clock = clock

    @contextmanager
    def hold(self, ledger: Ledger, post_id: str, target: str, owner: str, ttl: float,
             limit: float) -> Iterator[None]:
        """Renew the lease on (post_id, target) while the block runs, for `limit` seconds at most."""
        key = (id(ledger), post_id, target, owner)
        with self._lock:
            self._held[key] = _Held(ledger, post_id, target, owner, ttl, self._clock() + limit)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="syndicate-leases", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._held.pop(key, None)

    def _run(self) -> None:
        while True:
            with self._lock:
                items = list(self._held.values())
            if not items:
                with self._lock:
                    if not self._held:
                        self._thread = None
                        return
                continue
            self._wake.wait(min(h.ttl for h in items) / 3)
            self.renew_now()

    def renew_now(self) -> None:
        """Renew every lease held now (the thread's step; tests call it directly)."""
        with self._lock:
            items = list(self._held.values())
        now = self._clock()
        for h in items:
            if h.lost:
                continue
            if now > h.deadline:
                h.lost = True
                log.warning("%s → %s: the unit has run past its limit; its lease is no longer renewed",
                            h.post_id, h.target)
                continue
            try:
                if not h.ledger.renew(h.post_id, h.target, h.owner, h.ttl):
                    h.lost = True
                    self._say_lost(h)
            except Exception as exc:  # the database is away: try again next round, the TTL still runs
                log.warning("%s → %s: cannot renew the lease: %s", h.post_id, h.target, type(exc).__name__)

    @staticmethod
    def _say_lost(h: _Held) -> None:
        """A renewal that failed: an error when another process holds the row, else (the unit's own final
        statement let it go after this round took its list) nothing worth more than a debug line."""
        row = h.ledger.get(h.post_id, h.target)
        holder = row.lease_owner if row is not None else None
        if holder is not None and holder != h.owner:
            log.error("%s → %s: the lease was lost (another process took the row over: %s)", h.post_id, h.target,
                      describe(holder, row.lease_until if row is not None else None))
        else:
            log.debug("%s → %s: the unit let its lease go before this renewal", h.post_id, h.target)


keeper = Keeper()
