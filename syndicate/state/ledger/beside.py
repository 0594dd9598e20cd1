"""What the ledger keeps beside the rows: the parts of a thread, instance facts, watched files.

A mixin of `Ledger` (`syndicate.state.ledger.store`): each method is one short transaction on
the ledger's engine, scoped to its site like the rows.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicate.state.ledger.schema import FileRow, Part, aware, facts, files, parts, utcnow

CHUNK = 500  # ids per IN (...): well under SQLite's bound-parameter limit


class Beside:
    """Parts, facts and files of one site's ledger (mixed into `Ledger`)."""

    engine: Engine
    site: str

    def _pk(self, table: sa.Table, post_id: str, target: str) -> sa.ColumnElement[bool]:
        return sa.and_(table.c.site == self.site, table.c.post_id == post_id, table.c.target == target)

    def _upsert(self, table: sa.Table) -> Any:
        raise NotImplementedError

    # thread parts
    def parts(self, post_id: str, target: str) -> list[Part]:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(parts).where(self._pk(parts, post_id, target)).order_by(parts.c.idx))
            return [Part.from_db(m) for m in found.mappings()]

    def record_part(
        self, post_id: str, target: str, idx: int, *, revision: int, idem_key: str | None, state: str,
        remote_id: str | None = None, remote_url: str | None = None,
        remote_extra: dict[str, Any] | None = None, content_hash: str | None = None,
    ) -> None:
        """Insert or replace part `idx` (counted from 0) of a thread."""
        values = {
            "site": self.site, "post_id": post_id, "target": target, "idx": idx, "revision": revision, "idem_key": idem_key,
            "state": state, "remote_id": remote_id, "remote_url": remote_url, "content_hash": content_hash,
            "updated_at": utcnow(),
            "remote_extra": json.dumps(remote_extra, sort_keys=True) if remote_extra else None,
        }
        with self.engine.begin() as conn:
            conn.execute(self._upsert(parts), [values])

    def clear_parts(self, post_id: str, target: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(parts.delete().where(self._pk(parts, post_id, target)))

    # instance facts
    def get_fact(self, scope: str, now: datetime | None = None) -> dict[str, Any] | None:
        """The cached facts for `scope` (e.g. "mastodon https://example.social"); None if missing or expired."""
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(facts.c.data, facts.c.expires_at).where(facts.c.scope == scope)).first()
        if found is None or aware(found.expires_at) <= (now or utcnow()):  # type: ignore[operator]
            return None
        data: dict[str, Any] = json.loads(found.data)
        return data

    def put_fact(self, scope: str, data: dict[str, Any], ttl_seconds: float, *, now: datetime | None = None) -> None:
        now = now or utcnow()
        values = {"scope": scope, "data": json.dumps(data, sort_keys=True), "fetched_at": now,
                  "expires_at": now + timedelta(seconds=ttl_seconds)}
        with self.engine.begin() as conn:
            conn.execute(self._upsert(facts), [values])

    # watched files
    def files(self) -> dict[str, FileRow]:
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(files).where(files.c.site == self.site)).mappings()
            return {m["path"]: FileRow.from_db(m) for m in found}

    def put_files(self, found: Iterable[FileRow]) -> None:
        """Insert or replace many files in one transaction (one executemany)."""
        now = utcnow()
        values = [
            {"site": self.site, "path": f.path, "size": f.size, "mtime_ns": f.mtime_ns, "inode": f.inode,
             "sha256": f.sha256, "post_id": f.post_id, "seen_at": f.seen_at or now}
            for f in found
        ]
        if values:
            with self.engine.begin() as conn:
                conn.execute(self._upsert(files), values)

    def delete_files(self, paths: Iterable[str]) -> None:
        gone = list(paths)
        with self.engine.begin() as conn:
            for start in range(0, len(gone), CHUNK):
                conn.execute(files.delete().where(files.c.site == self.site,
                                                  files.c.path.in_(gone[start:start + CHUNK])))

