"""Alembic's entry point: migrates the connection the caller passed in `config.attributes`.

`syndicate.state.ledger.migrate` passes a connection already inside a locked
transaction; run by hand (`alembic -c ...`), `sqlalchemy.url` is used instead.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from syndicate.state.ledger.migrate import make_engine
from syndicate.state.ledger.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
