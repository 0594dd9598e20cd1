"""Which sites use a ledger: one, unless each says `[state] shared = true`.

A `Ledger` opens for one site and sees only that site's rows. On first open a
site joins the `sites` table; a ledger that another site already uses is
refused unless this one is configured to share it, so two sites that landed
on one ledger by accident (one data folder, one database URL) are told so
instead of overwriting each other's copies. The first site to join a ledger
from before sites existed takes its rows (the migration left them under "").
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from syndicate.errors import ConfigError
from syndicate.state.ledger.migrate import PG_LOCK_KEY
from syndicate.state.ledger.schema import PER_SITE, sites

UNCLAIMED = ""  # the site of rows written before 0005


class SiteConflict(ConfigError):
    """The ledger holds another site's rows and this site is not configured to share it."""


def members(engine: Engine) -> list[str]:
    """The sites that use this ledger, in the order they joined."""
    with engine.connect() as conn:
        return list(conn.execute(sa.select(sites.c.site).order_by(sites.c.joined_at, sites.c.site)).scalars())


def join(engine: Engine, site: str, *, shared: bool, now: datetime, where: str) -> None:
    """Make `site` a user of the ledger, or raise `SiteConflict`; one cheap read once it is one."""
    known = members(engine)
    if site in known and (shared or known == [site]):
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # two sites joining at once: one after the other
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key, hashtext('sites:' || current_schema()))"),
                         {"key": PG_LOCK_KEY})
        # SQLite: this write takes the database's write lock before the read below
        added = conn.execute(_insert_ignored(engine, site, now).returning(sites.c.site)).first() is not None
        others = [s for s in conn.execute(sa.select(sites.c.site).order_by(sites.c.joined_at)).scalars() if s != site]
        if others and not shared:
            raise SiteConflict(refusal(where, site, others))  # rolls the join back
        if added and not others:
            for table in PER_SITE:
                conn.execute(table.update().where(table.c.site == UNCLAIMED).values(site=site))


def _insert_ignored(engine: Engine, site: str, now: datetime) -> sa.Insert:
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(sites).values(site=site, joined_at=now).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(sites).values(site=site, joined_at=now).on_conflict_do_nothing()


def refusal(where: str, site: str, others: list[str]) -> str:
    """Why a ledger is refused, and the keys that settle it."""
    listed = ", ".join(others)
    first = others[0]
    return (
        f"the ledger {where} already holds the rows of site {listed}, and this config is for site {site}. "
        f"Two sites on one ledger would overwrite each other's copies, so it is refused. Either give {site} "
        "a ledger of its own ([state] url, or [state] dir / $SYNDICATE_DATA for its data folder); or share "
        "this one on purpose: set `shared = true` in [state] of every site that uses it (each sees only its "
        f"own rows); or, if {site} is {first} at a new address, set `site = \"{first}\"` in [state]"
    )
