"""The ledger's rows as plain data (no SQLAlchemy): what readers of the ledger get back."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


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
    site: str = ""  # the site whose row this is (every query of a `Ledger` is confined to one)

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
