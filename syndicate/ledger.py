"""The ledger: one row per (post, target), moved through its states.

SQLAlchemy Core; SQLite by default, PostgreSQL by URL. The row is the memory
that makes a create happen exactly once: the intent (with a deterministic key)
is committed before the platform is called, so a crash or a lost response
leaves a `creating` row whose outcome is unknown, and the next attempt calls
the connector's `find` before creating again.

States:
    queued     a task was sent to the broker
    creating   intent recorded, outcome unknown until `published` or `failed`
    published  the copy exists (remote_id, remote_url, content_hash)
    deferred   waiting until `deferred_until` (a future post, a long rate limit)
    failed     a permanent or auth error, or retries exhausted (last_error says why)
    deleted    the copy was removed or unpublished
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

rows = sa.Table(
    "syndication",
    metadata,
    sa.Column("post_id", sa.String(128), primary_key=True),
    sa.Column("target", sa.String(128), primary_key=True),
    sa.Column("post_path", sa.Text, nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("idem_key", sa.String(300), nullable=True),
    sa.Column("revision", sa.Integer, nullable=False, default=1),
    sa.Column("remote_id", sa.Text, nullable=True),
    sa.Column("remote_url", sa.Text, nullable=True),
    sa.Column("remote_extra", sa.Text, nullable=True),  # JSON
    sa.Column("content_hash", sa.String(64), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("error_kind", sa.String(32), nullable=True),
    sa.Column("deferred_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("defer_reason", sa.Text, nullable=True),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
)
sa.Index("ix_syndication_due", rows.c.state, rows.c.deferred_until)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time in the ledger is UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass
class Row:
    post_id: str
    target: str
    state: str
    post_path: str | None = None
    idem_key: str | None = None
    revision: int = 1
    remote_id: str | None = None
    remote_url: str | None = None
    remote_extra: dict[str, Any] = field(default_factory=dict)
    content_hash: str | None = None
    attempts: int = 0
    last_error: str | None = None
    error_kind: str | None = None
    deferred_until: datetime | None = None
    defer_reason: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    published_at: datetime | None = None

    @classmethod
    def from_db(cls, m: Any) -> Row:
        data = dict(m)
        data["remote_extra"] = json.loads(data["remote_extra"]) if data.get("remote_extra") else {}
        for key in ("deferred_until", "lease_until", "created_at", "updated_at", "published_at"):
            data[key] = _aware(data.get(key))
        return cls(**data)

    @property
    def has_remote(self) -> bool:
        return self.remote_id is not None and self.state in ("published", "creating", "queued", "failed", "deferred")


class Ledger:
    """Access to the ledger table; every method is one short transaction."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # reads
    def get(self, post_id: str, target: str) -> Row | None:
        with self.engine.connect() as conn:
            m = conn.execute(
                sa.select(rows).where(rows.c.post_id == post_id, rows.c.target == target)
            ).mappings().first()
        return Row.from_db(m) if m else None

    def all(self, post_ids: list[str] | None = None, states: list[str] | None = None) -> list[Row]:
        query = sa.select(rows).order_by(rows.c.post_path, rows.c.target)
        if post_ids is not None:
            query = query.where(rows.c.post_id.in_(post_ids))
        if states is not None:
            query = query.where(rows.c.state.in_(states))
        with self.engine.connect() as conn:
            return [Row.from_db(m) for m in conn.execute(query).mappings()]

    def by_post(self, post_ids: list[str]) -> dict[tuple[str, str], Row]:
        """Rows for many posts in one query (the reconcile scan's hot path)."""
        out: dict[tuple[str, str], Row] = {}
        for start in range(0, len(post_ids), 500):
            for row in self.all(post_ids[start:start + 500]):
                out[(row.post_id, row.target)] = row
        return out

    def due(self, now: datetime | None = None, limit: int = 500) -> list[Row]:
        """Deferred rows whose time has come."""
        now = now or utcnow()
        query = (
            sa.select(rows)
            .where(rows.c.state == "deferred", rows.c.deferred_until <= now)
            .order_by(rows.c.deferred_until)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [Row.from_db(m) for m in conn.execute(query).mappings()]

    def stale(self, older_than: timedelta, now: datetime | None = None, limit: int = 500) -> list[Row]:
        """Rows left `new`, `queued` or `creating` with no live lease for longer than `older_than`.

        A task can be lost between the broker and a worker (a broker restart
        without persistence, a purge, a retry held by a killed worker); the
        periodic job sends these again. The ledger, not the broker, is the
        memory of what is still to do.
        """
        now = now or utcnow()
        query = (
            sa.select(rows)
            .where(
                rows.c.state.in_(["new", "queued", "creating"]),
                rows.c.updated_at < now - older_than,
                sa.or_(rows.c.lease_until.is_(None), rows.c.lease_until < now),
            )
            .order_by(rows.c.updated_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [Row.from_db(m) for m in conn.execute(query).mappings()]

    # writes
    def ensure(self, post_id: str, target: str, post_path: str | None) -> None:
        """Create the row if missing (state `new`), or refresh its path after a rename.

        Ids come from the canonical URL, so a renamed file keeps its rows; a
        post whose URL changed (a slug that follows the title) keeps them
        through its unchanged path, adopted here under the new id.
        """
        now = utcnow()
        with self.engine.begin() as conn:
            found = conn.execute(
                sa.select(rows.c.post_path).where(rows.c.post_id == post_id, rows.c.target == target)
            ).first()
            if found is None and post_path:
                # same file, new id (a URL that follows the title changed): the same post
                adopted = conn.execute(
                    rows.update()
                    .where(rows.c.post_path == post_path, rows.c.target == target, rows.c.post_id != post_id)
                    .values(post_id=post_id, updated_at=now)
                )
                if adopted.rowcount:
                    return
            if found is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            rows.insert().values(
                                post_id=post_id, target=target, post_path=post_path, state="new",
                                revision=1, attempts=0, created_at=now, updated_at=now,
                            )
                        )
                except sa.exc.IntegrityError:
                    pass  # another worker inserted it first: fine
            elif post_path and found[0] != post_path:
                conn.execute(
                    rows.update()
                    .where(rows.c.post_id == post_id, rows.c.target == target)
                    .values(post_path=post_path)
                )

    def acquire(self, post_id: str, target: str, post_path: str | None, owner: str, ttl: float = 120.0) -> Row | None:
        """Claim the row (creating it if new) and return it; None if another worker holds it.

        One conditional `UPDATE ... RETURNING` in the common case: the claim,
        the path refresh and the read of the row in a single round trip.
        """
        for _ in range(2):
            now = utcnow()
            free = sa.or_(rows.c.lease_until.is_(None), rows.c.lease_until < now, rows.c.lease_owner == owner)
            values: dict[str, Any] = dict(lease_owner=owner, lease_until=now + timedelta(seconds=ttl))
            if post_path:
                values["post_path"] = post_path
            with self.engine.begin() as conn:
                m = conn.execute(
                    rows.update().where(rows.c.post_id == post_id, rows.c.target == target, free)
                    .values(**values).returning(*rows.c)
                ).mappings().first()
                if m is not None:
                    return Row.from_db(m)
                exists = conn.execute(
                    sa.select(rows.c.post_id).where(rows.c.post_id == post_id, rows.c.target == target)
                ).first()
            if exists:
                return None  # held by another worker
            self.ensure(post_id, target, post_path)
        return None

    def claim(self, post_id: str, target: str, owner: str, ttl: float = 300.0) -> bool:
        """Take the row's lease with one conditional UPDATE; False if another holds it.

        The lease expires by itself, so a killed worker's claim does not block
        the redelivered task for longer than `ttl`.
        """
        return self.acquire(post_id, target, None, owner, ttl) is not None

    def release(self, post_id: str, target: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                rows.update()
                .where(rows.c.post_id == post_id, rows.c.target == target, rows.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    def update(self, post_id: str, target: str, **values: Any) -> None:
        if "remote_extra" in values:
            values["remote_extra"] = json.dumps(values["remote_extra"] or {}, sort_keys=True)
        values["updated_at"] = utcnow()
        with self.engine.begin() as conn:
            conn.execute(rows.update().where(rows.c.post_id == post_id, rows.c.target == target).values(**values))

    def record_intent(self, post_id: str, target: str, key: str, content_hash: str) -> None:
        """Committed before `create` is called: from here the outcome is unknown until recorded."""
        self.update(
            post_id, target, state="creating", idem_key=key, content_hash=content_hash,
            attempts=rows.c.attempts + 1, last_error=None, error_kind=None,
            deferred_until=None, defer_reason=None,
        )

    def record_published(
        self, post_id: str, target: str, remote_id: str, remote_url: str | None,
        extra: dict[str, Any], content_hash: str, *, first: bool, release: bool = False,
    ) -> None:
        values: dict[str, Any] = dict(
            state="published", remote_id=remote_id, remote_url=remote_url, remote_extra=extra,
            content_hash=content_hash, last_error=None, error_kind=None, deferred_until=None, defer_reason=None,
        )
        if release:
            values.update(lease_owner=None, lease_until=None)
        if first:
            values["published_at"] = utcnow()
        self.update(post_id, target, **values)

    def record_failure(self, post_id: str, target: str, kind: str, message: str, *, keep_state: bool | None = None) -> None:
        """A failure, with the platform's message. The row becomes `failed`, except that
        `keep_state` (by default: when the row is `published` or `creating`) leaves the
        state as it is, because the copy on the platform did not change."""
        values: dict[str, Any] = dict(last_error=message[:2000], error_kind=kind)
        if keep_state is None:
            row = self.get(post_id, target)
            keep_state = row is not None and row.state in ("published", "creating")
        if not keep_state:
            values["state"] = "failed"
        self.update(post_id, target, **values)

    def defer(self, post_id: str, target: str, until: datetime, reason: str) -> None:
        self.update(post_id, target, state="deferred", deferred_until=until, defer_reason=reason)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so several processes can share it."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # no pre-ping (a round trip per checkout, on the per-task hot path): connections are
    # recycled, and a dropped one surfaces as OperationalError, which the task retries
    return sa.create_engine(url, pool_recycle=600, pool_size=10, max_overflow=10)
