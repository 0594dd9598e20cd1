"""The ledger's tables at the head revision (the records read from them are in `rows`).

These definitions are what the queries use; the migrations in
`syndicate/state/migrations/versions/` are what build the tables, each a frozen
snapshot. A test compares the migrated database with these definitions, so
the two cannot drift apart.
"""
from __future__ import annotations

import sqlalchemy as sa

from syndicate.state.ledger.rows import FileRow, Part, Row, aware, utcnow

__all__ = ["HEAD", "FileRow", "Part", "Row", "aware", "deliveries", "facts", "files", "metadata", "parts", "rate_grants",
           "rate_pauses", "rows",
           "sites", "syncs", "utcnow"]

# the newest migration; checked against the scripts by a test, so that opening
# an up-to-date ledger needs no import of alembic
HEAD = "0006"
SITE = 300  # the length of a site's name (0005: every per-site row carries it)

metadata = sa.MetaData()
TZ = sa.DateTime(timezone=True)

rows = sa.Table(
    "syndication",
    metadata,
    sa.Column("site", sa.String(SITE), primary_key=True),
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
    sa.Column("site", sa.String(SITE), primary_key=True),
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
    sa.Column("site", sa.String(SITE), primary_key=True),
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("inode", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("post_id", sa.String(128), nullable=True),
    sa.Column("seen_at", TZ, nullable=False),
)


# 0003: webhook deliveries (replay memory, the push record) and one sync state (and lock) per repository
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("site", sa.String(SITE), primary_key=True),
    sa.Column("delivery_id", sa.String(200), primary_key=True),
    sa.Column("host", sa.String(16), nullable=False),
    sa.Column("ref", sa.Text, nullable=True),
    sa.Column("before", sa.String(64), nullable=True),
    sa.Column("after", sa.String(64), nullable=False),
    sa.Column("received_at", TZ, nullable=False),
)
sa.Index("ix_deliveries_after", deliveries.c.after)
sa.Index("ix_deliveries_received_at", deliveries.c.received_at)

syncs = sa.Table(
    "syncs",
    metadata,
    sa.Column("site", sa.String(SITE), primary_key=True),
    sa.Column("repo", sa.String(300), primary_key=True),
    sa.Column("requested", sa.Integer, nullable=False),  # pushes accepted so far
    sa.Column("done", sa.Integer, nullable=False),  # `requested` as the last finished sync read it
    sa.Column("full", sa.Boolean, nullable=False),  # a force-push or a new branch: reconcile the whole tree
    sa.Column("commit", sa.String(64), nullable=True),  # the last commit synced
    sa.Column("synced_at", TZ, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("owner", sa.String(128), nullable=True),  # the lock: who syncs now, until when
    sa.Column("lease_until", TZ, nullable=True),
    # 0004: before the first sync, the commit the first push started from: its tree is taken as published
    sa.Column("base", sa.String(64), nullable=True),
)

# 0005: the sites whose rows this ledger holds (one, unless `[state] shared`); each per-site table
# above leads its primary key with `site`, and every query of `Ledger` is confined to its own
sites = sa.Table(
    "sites",
    metadata,
    sa.Column("site", sa.String(SITE), primary_key=True),
    sa.Column("joined_at", TZ, nullable=False),
)
PER_SITE = (rows, parts, files, deliveries, syncs)


# 0006: the embedded rate limiter (syndicate.state.ratesql): one row per grant in a window, pauses per account
rate_grants = sa.Table(
    "rate_grants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(64), nullable=False),  # a hash of the account key (no token in it)
    sa.Column("window", sa.String(200), nullable=False),  # "{budget}:{seconds}"
    sa.Column("at", sa.Float, nullable=False),  # epoch seconds
    sa.Column("units", sa.Integer, nullable=False),
)
sa.Index("ix_rate_grants_window", rate_grants.c.account, rate_grants.c.window, rate_grants.c.at)

rate_pauses = sa.Table(
    "rate_pauses",
    metadata,
    sa.Column("account", sa.String(64), primary_key=True),
    sa.Column("scope", sa.String(64), primary_key=True),  # "*" (the account) or one kind ("media")
    sa.Column("until", sa.Float, nullable=False),  # no call before this
    sa.Column("gap", sa.Float, nullable=False),  # spacing learnt from low remaining headers
    sa.Column("gap_until", sa.Float, nullable=False),  # the spacing holds until then
    sa.Column("next_at", sa.Float, nullable=False),  # the next spaced call
)
