"""The ledger's schema: Alembic revisions, concurrent first opens, the legacy stamp, a cheap start."""
from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syndicate.errors import ConfigError
from syndicate.state.ledger import HEAD, Ledger, current_revision, make_engine
from syndicate.state.ledger.migrate import alembic_config
from syndicate.state.ledger.schema import metadata

ROOT = Path(__file__).resolve().parents[1]
TZ = sa.DateTime(timezone=True)

# the table exactly as `metadata.create_all` made it before migrations existed (frozen here)
legacy = sa.MetaData()
sa.Table(
    "syndication", legacy,
    sa.Column("post_id", sa.String(128), primary_key=True), sa.Column("target", sa.String(128), primary_key=True),
    sa.Column("post_path", sa.Text), sa.Column("state", sa.String(16), nullable=False),
    sa.Column("idem_key", sa.String(300)), sa.Column("revision", sa.Integer, nullable=False, default=1),
    sa.Column("remote_id", sa.Text), sa.Column("remote_url", sa.Text), sa.Column("remote_extra", sa.Text),
    sa.Column("content_hash", sa.String(64)), sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text), sa.Column("error_kind", sa.String(32)), sa.Column("deferred_until", TZ),
    sa.Column("defer_reason", sa.Text), sa.Column("lease_owner", sa.String(128)), sa.Column("lease_until", TZ),
    sa.Column("created_at", TZ, nullable=False), sa.Column("updated_at", TZ, nullable=False),
    sa.Column("published_at", TZ),
    sa.Index("ix_syndication_due", "state", "deferred_until"),
)


def _shape(engine: sa.Engine, table: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    insp = sa.inspect(engine)
    cols = [(c["name"], str(c["type"]), c["nullable"], c.get("default")) for c in insp.get_columns(table)]
    pk = insp.get_pk_constraint(table)["constrained_columns"]
    indexes = sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in insp.get_indexes(table))
    return cols, [tuple(pk), *indexes]


def _tables_here(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())  # the default schema: the fixture's on PostgreSQL


def test_head_is_the_newest_migration_script() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [HEAD]
    assert [s.revision for s in reversed(list(script.walk_revisions()))] == ["0001", "0002", "0003", "0004", "0005", "0006"]


def test_revision_0001_is_the_table_create_all_made(ledger_url: str) -> None:
    from alembic import command

    engine = make_engine(ledger_url)
    legacy.create_all(engine)
    before = _shape(engine, "syndication")
    legacy.drop_all(engine)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    assert _shape(engine, "syndication") == before
    assert current_revision(engine) == "0001"
    engine.dispose()


def test_the_migrated_schema_is_the_table_definitions(ledger_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    led = Ledger(ledger_url, site="blog.example")
    with led.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    led.dispose()


def test_every_revision_downgrades_and_upgrades_again(ledger_url: str) -> None:
    from alembic import command

    engine = make_engine(ledger_url)
    Ledger(ledger_url, site="blog.example", engine=engine)
    shape = _shape(engine, "syndication")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    assert current_revision(engine) == "0001"
    assert "syndication_part" not in _tables_here(engine)
    assert "reason" not in [c[0] for c in _shape(engine, "syndication")[0]]
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert "syndication" not in _tables_here(engine)
    Ledger(ledger_url, site="blog.example", engine=engine)
    assert current_revision(engine) == HEAD and _shape(engine, "syndication") == shape
    engine.dispose()


def test_a_legacy_database_is_stamped_0001_then_upgraded(ledger_url: str) -> None:
    engine = make_engine(ledger_url)
    legacy.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO syndication (post_id, target, state, revision, attempts, remote_id, created_at, updated_at) "
            "VALUES ('p1', 'devto', 'published', 1, 1, '9', :now, :now)"), {"now": datetime(2024, 1, 1, tzinfo=UTC)})
    assert current_revision(engine) is None
    led = Ledger(ledger_url, site="blog.example", engine=engine)
    assert current_revision(engine) == HEAD
    assert {"syndication_part", "facts", "files", "alembic_version"} <= _tables_here(engine)
    row = led.get("p1", "devto")
    assert row is not None and (row.state, row.remote_id, row.reason, row.parts_total) == ("published", "9", None, None)
    led.dispose()


def test_a_ledger_newer_than_this_code_is_refused(ledger_url: str) -> None:
    Ledger(ledger_url, site="blog.example").dispose()
    engine = make_engine(ledger_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(ConfigError, match="0999"):
        Ledger(ledger_url, site="blog.example", engine=engine)
    engine.dispose()


def _open_at_once(url: str, barrier: Any, results: Any) -> None:
    import alembic.command  # noqa: F401  (imported before the barrier, so the opens start together)

    barrier.wait(timeout=120)
    try:
        led = Ledger(url, site="blog.example")
        led.ensure("p1", "devto", "a.md")
        results.put(("ok", current_revision(led.engine)))
        led.dispose()
    except Exception as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))


@pytest.mark.timeout(180)
def test_many_processes_open_a_new_ledger_at_once(ledger_url: str) -> None:
    n = 6
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_open_at_once, args=(ledger_url, barrier, results)) for _ in range(n)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=150) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert outcomes == [("ok", HEAD)] * n
    engine = make_engine(ledger_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
        if engine.dialect.name == "postgresql":  # the version table lives in the fixture's schema too
            where = conn.execute(sa.text(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = 'alembic_version' "
                "AND table_schema = current_schema()")).scalars().all()
            assert where and where[0].startswith("t_")
    assert {"syndication", "syndication_part", "facts", "files"} <= _tables_here(engine)
    engine.dispose()


def test_opening_an_up_to_date_ledger_does_not_import_alembic(ledger_url: str) -> None:
    Ledger(ledger_url, site="blog.example").dispose()
    code = (
        "import sys\nfrom syndicate.state.ledger import Ledger\n"
        f"Ledger({ledger_url!r}, site='blog.example').dispose()\n"
        "assert 'alembic' not in sys.modules, 'alembic imported on the fast path'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
