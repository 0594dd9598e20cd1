"""Engines, and the ledger's schema brought to the head revision, safely under concurrency.

Opening an up-to-date ledger costs one plain query (`SELECT version_num FROM
alembic_version`); alembic is imported only when that answer is not the head.
The upgrade then runs under a lock, so several processes starting at once on a
new site (two `syndicate push`, a pool of workers) create the tables once:

- PostgreSQL: `pg_advisory_xact_lock` in the upgrade's own transaction, keyed
  by the current schema; PostgreSQL's DDL is transactional, so the others wait,
  then see the committed head.
- SQLite: the upgrade runs in a `BEGIN EXCLUSIVE` transaction on a connection
  of its own (pysqlite would otherwise run DDL outside any transaction), which
  is both the lock and atomicity; the others wait on the busy timeout.

A database made by the old `metadata.create_all` (a `syndication` table and no
`alembic_version`) is stamped 0001, then upgraded.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from syndicate.errors import ConfigError
from syndicate.state.ledger.schema import HEAD

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# first half of the two-key advisory lock: "syn" + "L" in ASCII; the second half is the schema
PG_LOCK_KEY = 0x73796E4C
SQLITE_TIMEOUT = 30.0


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL and a busy timeout so several processes can share it."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        _mkdir_for(url)
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_TIMEOUT})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # no pre-ping (a round trip per checkout, on the per-task hot path): connections are
    # recycled, and a dropped one surfaces as OperationalError, which the task retries
    return sa.create_engine(url, pool_recycle=600, pool_size=10, max_overflow=10)


def _mkdir_for(url: str) -> None:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database; None when there is none yet."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return None  # no version table (yet): the locked path below looks closer


def ensure_schema(engine: Engine) -> None:
    """Create or upgrade the ledger's tables to the head revision; cheap when already there."""
    if current_revision(engine) == HEAD:
        return
    with _locked(engine) as conn:
        _upgrade(conn)


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other process's upgrade runs beside."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key, hashtext(coalesce(current_schema(), '')))"),
                {"key": PG_LOCK_KEY},
            )
            yield conn
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        with engine.begin() as conn:  # a private database: nobody to race with
            yield conn
        return
    # a connection of its own, with pysqlite's implicit transactions off, so that the
    # DDL runs inside BEGIN EXCLUSIVE: https://docs.sqlalchemy.org/en/20/dialects/sqlite.html
    # ("Serializable isolation / Savepoints / Transactional DDL")
    private = sa.create_engine(
        engine.url, poolclass=sa.pool.NullPool,
        connect_args={"timeout": SQLITE_TIMEOUT, "isolation_level": None},
    )
    sa.event.listen(private, "connect", _sqlite_pragmas)
    sa.event.listen(private, "begin", lambda conn: conn.exec_driver_sql("BEGIN EXCLUSIVE"))
    try:
        with private.begin() as conn:
            yield conn
    finally:
        private.dispose()


def alembic_config(conn: Connection | None = None) -> Any:
    """An alembic `Config` for syndicate's migrations, bound to `conn` when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def _upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    current = MigrationContext.configure(conn).get_current_revision()
    if current == HEAD:
        return  # another process upgraded it while this one waited for the lock
    cfg = alembic_config(conn)
    known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
    if current is not None and current not in known:
        raise ConfigError(
            f"the ledger's schema is at revision {current}, which this version of syndicate "
            f"does not know (its newest is {HEAD}): upgrade syndicate"
        )
    if current is None and sa.inspect(conn).has_table("syndication"):
        command.stamp(cfg, "0001")  # made by create_all before migrations existed
    command.upgrade(cfg, "head")
