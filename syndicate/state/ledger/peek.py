"""A read-only look at a SQLite ledger with the standard library, for `preview`.

A preview reads two things, the (post, target) row and an instance's cached
facts, and writes nothing; with `sqlite3` it needs neither SQLAlchemy (about
a third of a one-post preview's start) nor a schema check. A ledger that does
not exist yet reads as empty; one from before sites (no `site` column) reads
as this site's, as the first push will make it.
"""
from __future__ import annotations

import json
import sqlite3
import weakref
from datetime import datetime
from pathlib import Path
from typing import Any

from syndicate.state.ledger.rows import Part, Row, aware, utcnow

_TIMES = ("deferred_until", "lease_until", "created_at", "updated_at", "published_at", "deleted_at")


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return aware(value)
    return aware(datetime.fromisoformat(str(value)))


class Peek:
    """`get`, `get_fact` and `parts` of one site's `Ledger`, read-only, on a SQLite file."""

    def __init__(self, path: Path, site: str) -> None:
        self.path = path
        self.site = site
        self._mine: str | None = None
        self._conn: sqlite3.Connection | None = None  # one read-only connection for all the preview's reads

    def _site_filter(self) -> str:
        """` AND site = ?` where rows carry their site (the rows of a pre-0005 ledger are all this site's)."""
        if self._mine is None:
            columns = [r["name"] for r in self._query("PRAGMA table_info(syndication)", ())]
            if not columns:
                return ""  # no ledger yet: nothing to read, and nothing to remember
            self._mine = " AND site = ?" if "site" in columns else ""
        return self._mine

    def _rows(self, table: str, post_id: str, target: str, order: str = "") -> list[sqlite3.Row]:
        site = self._site_filter()
        return self._query(f"SELECT * FROM {table} WHERE post_id = ? AND target = ?{site}{order}",
                           (post_id, target, self.site) if site else (post_id, target))

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[sqlite3.Row]:
        if self._conn is None:
            if not self.path.exists():
                return []
            self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
            self._conn.row_factory = sqlite3.Row
            weakref.finalize(self, self._conn.close)  # closed with this Peek, never left to the collector
        try:  # no transaction is opened by a SELECT: each read sees the file as it is then
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # an empty or older file: nothing recorded yet
            return []

    def get(self, post_id: str, target: str) -> Row | None:
        found = self._rows("syndication", post_id, target)
        if not found:
            return None
        data = dict(found[0])
        for key in _TIMES:
            data[key] = _time(data.get(key))
        data["remote_extra"] = json.loads(data["remote_extra"]) if data.get("remote_extra") else {}
        return Row(**{k: v for k, v in data.items() if k in Row.__dataclass_fields__})

    def get_fact(self, scope: str, now: datetime | None = None) -> dict[str, Any] | None:
        found = self._query("SELECT data, expires_at FROM facts WHERE scope = ?", (scope,))
        if not found:
            return None
        expires = _time(found[0]["expires_at"])
        if expires is None or expires <= (now or utcnow()):
            return None
        data: dict[str, Any] = json.loads(found[0]["data"])
        return data

    def put_fact(self, scope: str, data: dict[str, Any], ttl_seconds: float) -> None:
        """A preview records nothing: the next push fetches and caches the facts."""

    def parts(self, post_id: str, target: str) -> list[Part]:
        found = self._rows("syndication_part", post_id, target, " ORDER BY idx")
        return [Part(idx=m["idx"], revision=m["revision"], idem_key=m["idem_key"], state=m["state"],
                     remote_id=m["remote_id"], remote_url=m["remote_url"],
                     remote_extra=json.loads(m["remote_extra"]) if m["remote_extra"] else {},
                     content_hash=m["content_hash"], updated_at=_time(m["updated_at"])) for m in found]


def peek_for(url: str, site: str) -> Peek | None:
    """A `Peek` at `site`'s rows for a `sqlite:///path` URL; None for any other database."""
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        return Peek(Path(url[len("sqlite:///"):]), site)
    return None
