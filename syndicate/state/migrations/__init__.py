"""Alembic migrations of the ledger; `syndicate.state.ledger.migrate` runs them, nobody else needs to.

Each revision under `versions/` is a frozen snapshot written by hand: it never
imports the live table definitions, which move on. To add one, copy the newest,
bump `revision` / `down_revision`, update `syndicate.state.ledger.schema` (tables and
`HEAD`) to match; tests/test_ledger.py checks the two agree.
"""
