"""A delivery's body, read into its signature check as it arrives: bounded in memory, in time and in number.

- At most `[webhook] max_unverified` bodies are read at once. A new one takes
  the slot of the slowest that has been reading for `GRACE` seconds or more
  (that connection is closed), else it waits for a slot until its deadline
  (then 503). A client trickling bodies cannot hold the slots.
- Each chunk goes into the HMAC and into a spool (in memory up to 256 KiB,
  then a temporary file in $TMPDIR), never into a list of chunks: twenty
  24 MiB forged bodies cost the spools' disk, not the server's memory.
- The whole body must arrive within `[webhook] body_timeout` of its headers.
- A body past `[webhook] max_body` is refused as soon as it passes it.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from starlette.requests import Request

from syndicate.errors import SyndicateError
from syndicate.triggers.webhook.guard import BUSY

SPOOL_MEMORY = 256 * 1024  # bytes of one body kept in memory before it spills to a temporary file
GRACE = 1.0  # seconds: a body this young is never the slowest (its rate says nothing yet)


class TooLarge(SyndicateError):
    """The body passed `[webhook] max_body` (answered 413)."""


class Busy(SyndicateError):
    """No slot for another unverified body before the deadline (answered 503)."""


class Evicted(SyndicateError):
    """This body's slot went to a newer one: it was the slowest (its connection is closed)."""


@dataclass(eq=False)
class Slot:
    """One body being read: whose, since when, how much so far."""

    conn: Any  # the GuardedProtocol, when the server runs ours: closing it is how the slot is taken back
    started: float
    received: int = 0
    evicted: bool = False


@dataclass
class Slots:
    """At most `size` unverified bodies read at once; the slowest gives way to a new one."""

    size: int
    clock: Callable[[], float] = time.monotonic
    grace: float = GRACE
    held: list[Slot] = field(default_factory=list)
    evictions: int = 0
    _waiters: list[asyncio.Future[None]] = field(default_factory=list)

    async def take(self, conn: Any, deadline: float) -> Slot | None:
        """A slot for `conn`'s body, or None when none came free before `deadline` (on `clock`)."""
        while True:
            now = self.clock()
            if len(self.held) < self.size:
                return self._grant(conn, now)
            victim = self._slowest(now)
            if victim is not None:
                self._evict(victim)
                return self._grant(conn, now)
            if now >= deadline:
                return None
            ripe = min(s.started for s in self.held) + self.grace  # when one can first be judged slow
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait({waiter}, timeout=max(0.0, min(deadline, ripe) - now))
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def release(self, slot: Slot) -> None:
        if slot in self.held:
            self.held.remove(slot)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def _grant(self, conn: Any, now: float) -> Slot:
        slot = Slot(conn, now)
        self.held.append(slot)
        return slot

    def _slowest(self, now: float) -> Slot | None:
        ripe = [s for s in self.held if now - s.started >= self.grace]
        return min(ripe, key=lambda s: s.received / (now - s.started)) if ripe else None

    def _evict(self, slot: Slot) -> None:
        slot.evicted = True
        self.evictions += 1
        self.held.remove(slot)
        if slot.conn is not None:
            slot.conn.drop("evicted (slowest body)")


@dataclass
class Body:
    """A body read in full: spooled, its size, and the hex HMAC-SHA256 under the key (SHA-256 without one)."""

    spool: IO[bytes]
    size: int
    digest: str

    def bytes(self) -> bytes:
        self.spool.seek(0)
        return self.spool.read()

    def close(self) -> None:
        self.spool.close()


async def read_body(request: Request, *, key: bytes | None, cap: int, deadline: float,
                    slots: Slots | None) -> Body:
    """Read the body into the HMAC (under `key`) and a spool, within `cap` bytes.

    A body already received in full needs no slot. `deadline` (monotonic) bounds the wait for a
    slot; the read itself is bounded by the connection's own body deadline (`GuardedProtocol`),
    or here when the server runs plain uvicorn. Raises TooLarge, Busy (no slot in time), Evicted,
    TimeoutError or starlette's ClientDisconnect.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise TooLarge
    conn = request.scope.get("extensions", {}).get("syndicate.connection")
    slot = None
    if slots is not None and not (conn is not None and conn.phase == BUSY):
        slot = await slots.take(conn, deadline)
        if slot is None:
            raise Busy
    body = Body(tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY), 0, "")  # closed by the caller, or below
    mac = hmac.new(key, digestmod=hashlib.sha256) if key is not None else hashlib.sha256()
    try:
        if conn is not None:
            await _pump(request, body, mac, cap, slot)
        else:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await _pump(request, body, mac, cap, slot)
    except BaseException as exc:
        body.close()
        if isinstance(exc, Exception) and slot is not None and slot.evicted:
            raise Evicted from None
        raise
    finally:
        if slot is not None and slots is not None:
            slots.release(slot)
    body.digest = mac.hexdigest()
    return body


async def _pump(request: Request, body: Body, mac: Any, cap: int, slot: Slot | None) -> None:
    async for chunk in request.stream():
        body.size += len(chunk)
        if body.size > cap:
            raise TooLarge
        if slot is not None:
            if slot.evicted:
                raise Evicted
            slot.received += len(chunk)
        mac.update(chunk)
        body.spool.write(chunk)
