"""The ledger: one row per (post, target), moved through its states.

SQLAlchemy Core on SQLite (the default) or PostgreSQL (by URL), its schema
versioned by the Alembic migrations in `syndicate/state/migrations/` and upgraded
when a `Ledger` opens it (see `migrate`). The row is the memory that makes a
create happen exactly once: the intent (with a deterministic key) is committed
before the platform is called, so a crash or a lost response leaves a
`creating` row whose outcome is unknown, and the next attempt calls the
connector's `find` before creating again.

States of a `syndication` row (a free string column; these are all it holds):
    new        known, nothing sent yet
    queued     a task was sent to the broker
    creating   intent recorded, outcome unknown until `published` or `failed`
    published  the copy exists (remote_id, remote_url, content_hash)
    deferred   waiting until `deferred_until` (a future post, a long rate limit)
    failed     a permanent or auth error, or retries exhausted (last_error says why)
    check      a create whose outcome is unknown on a platform that cannot look a
               post up: never sent again (not `stale`, not `due`) until a human
               runs `syndicate resolve` (`Ledger.resolve`); `reason` says why
    baseline   known and deliberately never sent: a first-run baseline (`reason`)
    deleted    the copy was removed or unpublished (`deleted_at`, `reason`); the
               revision moved on, so a re-create gets a fresh key

Every row belongs to one site (the `site` column, first in each primary key)
and a `Ledger` sees only its own site's rows; `sites` lists the sites that use
the ledger, which is one unless each of them sets `[state] shared` (`sites`).

Beside the rows: `syndication_part` (one row per posted part of a thread, so a
half-posted thread resumes where it stopped; `Row.parts_total` is the count
expected), `facts` (a server's limits and the like, cached with an expiry) and
`files` (what the watcher last saw of each file).
"""
from __future__ import annotations

from typing import Any

from syndicate.state.ledger.rows import FileRow, Part, Row, utcnow

__all__ = [
    "HEAD", "FileRow", "Ledger", "Part", "Row", "SiteConflict", "current_revision", "ensure_schema", "make_engine",
    "metadata", "open_ledger", "utcnow",
]

# SQLAlchemy is imported only by what needs the database: reading rows (`rows`) and a
# read-only peek at SQLite (`peek`, for `preview`) start without it
_LAZY = {"Ledger": "store", "open_ledger": "store", "SiteConflict": "sites", "current_revision": "migrate",
         "ensure_schema": "migrate", "make_engine": "migrate", "HEAD": "schema", "metadata": "schema"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"syndicate.state.ledger.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'syndicate.state.ledger' has no attribute {name!r}")
