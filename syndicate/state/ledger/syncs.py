"""The webhook's records in the ledger: deliveries seen (replays) and one sync state per repository.

`Deliveries.remember` is the replay memory when no Redis is configured: a
delivery id is a primary key, so a redelivery is refused by the database
itself, on SQLite and PostgreSQL alike, however many servers share the ledger.

`Syncs` is the lock and the coalescing of pushes: each accepted push adds one
to `requested`; a sync holds a lease on the repository's row, reads
`requested`, and on finishing releases the lease only if no push came in the
meantime. Otherwise it goes round again, so pushes during a sync are folded
into the next one and none is lost. Until a first sync succeeds, `base` keeps
the `before` of the earliest push: the first sync takes that commit's tree as
already published and syncs only what changed since.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from syndicate.state.ledger.schema import aware, deliveries, syncs, utcnow
from syndicate.state.ledger.store import Ledger

WINDOW = timedelta(hours=24)  # how long a delivery id (and an `after` commit) is remembered
PURGE_EVERY = timedelta(minutes=10)


@dataclass
class SyncRow:
    """One repository's sync state."""

    repo: str
    requested: int = 0
    done: int = 0
    full: bool = False
    commit: str | None = None
    synced_at: datetime | None = None
    error: str | None = None
    owner: str | None = None
    lease_until: datetime | None = None
    base: str | None = None  # before a first sync: the commit the earliest push started from

    @classmethod
    def from_db(cls, m: sa.RowMapping) -> SyncRow:
        return cls(m["repo"], m["requested"], m["done"], bool(m["full"]), m["commit"], aware(m["synced_at"]),
                   m["error"], m["owner"], aware(m["lease_until"]), m["base"])


class Deliveries:
    """Delivery ids and `after` commits seen in the last 24 hours, in the ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.engine = ledger.engine
        self.site = ledger.site
        self._purged: datetime | None = None

    def remember(self, delivery_id: str, host: str, ref: str, before: str, after: str,
                 now: datetime | None = None) -> str:
        """Record one push: "new", "duplicate" (this id was seen) or "same commit" (another id brought `after`)."""
        now = now or utcnow()
        self._purge(now)
        try:
            with self.engine.begin() as conn:
                conn.execute(deliveries.insert().values(
                    site=self.site, delivery_id=delivery_id, host=host, ref=ref, before=before, after=after, received_at=now))
        except sa.exc.IntegrityError:
            return "duplicate"
        d = deliveries.c
        # the earliest delivery of a commit wins (ties by id), so two servers never both sync it nor both skip it
        earlier = sa.select(sa.func.count()).where(
            d.site == self.site, d.after == after, d.delivery_id != delivery_id, d.received_at >= now - WINDOW,
            sa.or_(d.received_at < now, sa.and_(d.received_at == now, d.delivery_id < delivery_id)))
        with self.engine.connect() as conn:
            return "same commit" if conn.execute(earlier).scalar() else "new"

    def _purge(self, now: datetime) -> None:
        if self._purged is not None and now - self._purged < PURGE_EVERY:
            return
        self._purged = now
        with self.engine.begin() as conn:
            conn.execute(deliveries.delete().where(deliveries.c.site == self.site,
                                                   deliveries.c.received_at < now - WINDOW))


class Syncs:
    """The per-repository lease and push counter."""

    def __init__(self, ledger: Ledger) -> None:
        self.engine = ledger.engine
        self.site = ledger.site

    def _repo(self, repo: str) -> sa.ColumnElement[bool]:
        return sa.and_(syncs.c.site == self.site, syncs.c.repo == repo)

    def get(self, repo: str) -> SyncRow | None:
        with self.engine.connect() as conn:
            m = conn.execute(sa.select(syncs).where(self._repo(repo))).mappings().first()
        return SyncRow.from_db(m) if m else None

    def request(self, repo: str, *, full: bool = False, count: int = 1,
                bases: Sequence[tuple[str, str]] = ()) -> int:
        """`count` more pushes to sync (`full`: a force-push or a new branch, so the whole tree is reconciled).

        Returns how many pushes were already waiting: when some were, a sync is queued or running and
        will take these too (`finish` sees them), so nothing more need be queued.
        """
        return self.record(repo, full=full, count=count, bases=bases)[0]

    def record(self, repo: str, *, full: bool = False, count: int = 1,
               bases: Sequence[tuple[str, str]] = ()) -> tuple[int, bool]:
        """`request`, and before the first sync the pushes' (before, after) in arrival order, in one transaction.

        The base is the earliest push's `before`; a push that ends where the base begins (delivered
        out of order) moves it back to its own `before`. Returns (pushes already waiting, whether the
        repository was synced before: then its last synced commit is the base, and none is noted).
        """
        s = syncs.c
        values: dict[str, object] = {"requested": s.requested + count}
        if full:
            values["full"] = True
        for _ in range(3):
            with self.engine.begin() as conn:  # the UPDATE locks the row: the base is read and written under it
                got = conn.execute(syncs.update().where(self._repo(repo)).values(**values)
                                   .returning(s.requested, s.done, s.commit, s.base)).first()
                if got is not None:
                    waiting, synced, was = int(got[0]) - count - int(got[1]), got[2] is not None, got[3]
                else:
                    try:
                        with conn.begin_nested():
                            conn.execute(syncs.insert().values(site=self.site, repo=repo, requested=count, done=0, full=full))
                    except sa.exc.IntegrityError:
                        continue  # another server inserted it first: update it
                    waiting, synced, was = 0, False, None
                base = was
                for before, after in () if synced else bases:
                    base = before if base is None or base == after else base
                if base != was:
                    conn.execute(syncs.update().where(self._repo(repo)).values(base=base))
                return waiting, synced
        raise sa.exc.InvalidRequestError(f"syncs: cannot record a push for {repo}")

    def acquire(self, repo: str, owner: str, ttl: float, now: datetime | None = None) -> SyncRow | None:
        """Take the lease when it is free (or expired) and there is work; returns the row as taken, `full` cleared."""
        now = now or utcnow()
        s = syncs.c
        free = sa.or_(s.owner.is_(None), s.lease_until < now, s.owner == owner)
        with self.engine.begin() as conn:
            m = conn.execute(sa.select(syncs).where(self._repo(repo))).mappings().first()
            if m is None or m["requested"] == m["done"]:
                return None
            taken = conn.execute(syncs.update().where(self._repo(repo), free).values(
                owner=owner, lease_until=now + timedelta(seconds=ttl), full=False)).rowcount
            if not taken:
                return None
        return SyncRow.from_db(m)

    def hold(self, repo: str, owner: str, ttl: float, now: datetime | None = None) -> bool:
        """Take the lease when it is free, work or not, once the repository has been synced (its checkout
        is there): True when taken. For what must not run while a sync switches the checkout."""
        now = now or utcnow()
        s = syncs.c
        free = sa.or_(s.owner.is_(None), s.lease_until < now, s.owner == owner)
        with self.engine.begin() as conn:
            return bool(conn.execute(syncs.update().where(self._repo(repo), free, s.commit.is_not(None)).values(
                owner=owner, lease_until=now + timedelta(seconds=ttl))).rowcount)

    def finish(self, repo: str, owner: str, row: SyncRow, *, commit: str | None, error: str | None,
               now: datetime | None = None) -> bool:
        """Record the sync's end; True when the lease is released, False when pushes came in meanwhile."""
        now = now or utcnow()
        s = syncs.c
        done: dict[str, object] = {"done": row.requested, "error": error, "synced_at": now}
        if commit is not None:
            done["commit"] = commit
            done["base"] = None
        if error is not None and row.full:
            done["full"] = True  # the whole-tree reconcile is still owed
        with self.engine.begin() as conn:
            conn.execute(syncs.update().where(self._repo(repo), s.owner == owner).values(**done))
            released = conn.execute(syncs.update().where(
                self._repo(repo), s.owner == owner, s.requested == row.requested).values(
                owner=None, lease_until=None)).rowcount
        return bool(released)

    def release(self, repo: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(syncs.update().where(self._repo(repo), syncs.c.owner == owner).values(
                owner=None, lease_until=None))
