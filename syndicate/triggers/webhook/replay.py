"""What an accepted delivery writes, without blocking the server's event loop.

- `RedisReplays`: delivery ids and `after` commits remembered for 24 h in
  Redis, both `SET NX EX` in one pipelined round trip (atomic across servers).
- `LedgerReplays`: the same in the ledger's `deliveries` table (no Redis),
  each in a worker thread.
- `PushCounter`: the ledger's per-repository push counter (`Syncs.record`)
  as a group commit: while one UPDATE is in flight, the pushes arriving meanwhile
  wait for the next, which adds them all at once. Each push is answered only
  once the UPDATE that counts it is committed.
"""
from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from syndicate.state.ledger.syncs import Deliveries, Syncs

WINDOW_SECONDS = 24 * 3600


class RedisReplays:
    """Replays and repeated commits, in Redis."""

    def __init__(self, url: str, scope: str) -> None:
        import redis.asyncio

        self.client = redis.asyncio.Redis.from_url(url)
        self.prefix = f"syndicate:hook:{scope}:"

    async def remember(self, delivery_id: str, host: str, ref: str, before: str, after: str) -> str:
        """"new", "duplicate" (this id was seen) or "same commit" (another id brought `after`)."""
        record = json.dumps({"host": host, "ref": ref, "before": before, "after": after})
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.set(self.prefix + "id:" + delivery_id, record, nx=True, ex=WINDOW_SECONDS)
            pipe.set(self.prefix + "after:" + after, delivery_id, nx=True, ex=WINDOW_SECONDS)
            fresh_id, fresh_after = await pipe.execute()
        if not fresh_id:
            return "duplicate"
        return "new" if fresh_after else "same commit"

    async def aclose(self) -> None:
        await self.client.aclose()


class LedgerReplays:
    """Replays and repeated commits, in the ledger (`syndicate.state.ledger.syncs.Deliveries`)."""

    def __init__(self, deliveries: Deliveries) -> None:
        self.deliveries = deliveries

    async def remember(self, delivery_id: str, host: str, ref: str, before: str, after: str) -> str:
        return await run_in_threadpool(self.deliveries.remember, delivery_id, host, ref, before, after)

    async def aclose(self) -> None:
        return None


class PushCounter:
    """Group commit of `Syncs.record`; `add` returns how many pushes were waiting before its batch.

    Until the ledger says the repository was synced once, each push's (before, after) goes with
    it, so the first sync knows where the pushes start (`Syncs.record`).
    """

    def __init__(self, syncs: Syncs, repo: str) -> None:
        self.syncs = syncs
        self.repo = repo
        self.synced = False
        self._waiters: list[asyncio.Future[int]] = []
        self._bases: list[tuple[str, str]] = []
        self._full = False
        self._flushing = False

    async def add(self, *, full: bool = False, base: tuple[str, str] | None = None) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._full = self._full or full
        if base is not None and not self.synced:
            self._bases.append(base)
        if not self._flushing:
            self._flushing = True
            asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._waiters:
                waiters, full, bases = self._waiters, self._full, self._bases
                self._waiters, self._full, self._bases = [], False, []
                try:
                    waiting, synced = await run_in_threadpool(self.syncs.record, self.repo, full=full,
                                                              count=len(waiters), bases=bases)
                except Exception as exc:  # every push of the batch gets the ledger's error (a 500)
                    for w in waiters:
                        w.set_exception(exc)
                    continue
                self.synced = self.synced or synced
                for i, w in enumerate(waiters):
                    w.set_result(waiting + i)
        finally:
            self._flushing = False
