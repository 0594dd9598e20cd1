"""The ledger's tables at the head revision, and the records read from them.

These definitions are what the queries use; the migrations in
`syndicate/migrations/versions/` are what build the tables, each a frozen
snapshot. A test compares the migrated database with these definitions, so
the two cannot drift apart.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

# the newest migration; checked against the scripts by a test, so that opening
# an up-to-date ledger needs no import of alembic
HEAD = "0002"

metadata = sa.MetaData()
TZ = sa.DateTime(timezone=True)

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
    sa.Column("deferred_until", TZ, nullable=True),
    sa.Column("defer_reason", sa.Text, nullable=True),
    sa.Column("lease_owner", sa.String(128), nullable=True),
    sa.Column("lease_until", TZ, nullable=True),
    sa.Column("created_at", TZ, nullable=False),
    sa.Column("updated_at", TZ, nullable=False),
    sa.Column("published_at", TZ, nullable=True),
    # 0002
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("deleted_at", TZ, nullable=True),
    sa.Column("parts_total", sa.Integer, nullable=True),
)
sa.Index("ix_syndication_due", rows.c.state, rows.c.deferred_until)

parts = sa.Table(
    "syndication_part",
    metadata,
    sa.Column("post_id", sa.String(128), primary_key=True),
    sa.Column("target", sa.String(128), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("idem_key", sa.String(300), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("remote_id", sa.Text, nullable=True),
    sa.Column("remote_url", sa.Text, nullable=True),
    sa.Column("remote_extra", sa.Text, nullable=True),  # JSON
    sa.Column("content_hash", sa.String(64), nullable=True),
    sa.Column("updated_at", TZ, nullable=False),
)

facts = sa.Table(
    "facts",
    metadata,
    sa.Column("scope", sa.String(300), primary_key=True),
    sa.Column("data", sa.Text, nullable=False),  # JSON
    sa.Column("fetched_at", TZ, nullable=False),
    sa.Column("expires_at", TZ, nullable=False),
)

files = sa.Table(
    "files",
    metadata,
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("inode", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("post_id", sa.String(128), nullable=True),
    sa.Column("seen_at", TZ, nullable=False),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every time in the ledger is UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _extra(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


@dataclass
class Row:
    """One (post, target) row of `syndication`."""

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
    reason: str | None = None
    deleted_at: datetime | None = None
    parts_total: int | None = None

    @classmethod
    def from_db(cls, m: Any) -> Row:
        data = dict(m)
        data["remote_extra"] = _extra(data.get("remote_extra"))
        for key in ("deferred_until", "lease_until", "created_at", "updated_at", "published_at", "deleted_at"):
            data[key] = aware(data.get(key))
        return cls(**data)


@dataclass
class Part:
    """One posted (or being posted) part of a thread, `idx` counted from 0."""

    idx: int
    revision: int
    idem_key: str | None
    state: str  # "creating" | "published"
    remote_id: str | None = None
    remote_url: str | None = None
    remote_extra: dict[str, Any] = field(default_factory=dict)
    content_hash: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_db(cls, m: Any) -> Part:
        return cls(
            idx=m["idx"], revision=m["revision"], idem_key=m["idem_key"], state=m["state"],
            remote_id=m["remote_id"], remote_url=m["remote_url"], remote_extra=_extra(m["remote_extra"]),
            content_hash=m["content_hash"], updated_at=aware(m["updated_at"]),
        )


@dataclass
class FileRow:
    """What the watcher last saw of a file; `seen_at` defaults to the time of `put_files`."""

    path: str
    size: int
    mtime_ns: int
    inode: int
    sha256: str
    post_id: str | None = None
    seen_at: datetime | None = None

    @classmethod
    def from_db(cls, m: Any) -> FileRow:
        return cls(
            path=m["path"], size=m["size"], mtime_ns=m["mtime_ns"], inode=m["inode"],
            sha256=m["sha256"], post_id=m["post_id"], seen_at=aware(m["seen_at"]),
        )
