"""Every per-site row carries its site, first in its primary key; `sites` lists who uses the ledger.

Revision ID: 0005
Revises: 0004

Rows written before this revision get the site "" here; the first site to open
the ledger claims them (`syndicate.state.ledger.store`), so a ledger from before
belongs to the site that opens it.

PostgreSQL changes the tables in place. SQLite cannot change a primary key, so
each table is copied into a new one and renamed (the recipe of
https://www.sqlite.org/lang_altertable.html#otheralter), inside the upgrade's
exclusive transaction.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
SITE = 300
# table -> its indexes (name, columns), recreated after a SQLite copy
TABLES: dict[str, list[tuple[str, list[str]]]] = {
    "syndication": [("ix_syndication_due", ["state", "deferred_until"])],
    "syndication_part": [],
    "files": [],
    "deliveries": [("ix_deliveries_after", ["after"]), ("ix_deliveries_received_at", ["received_at"])],
    "syncs": [],
}


def upgrade() -> None:
    for name, indexes in TABLES.items():
        _rekey(name, indexes, with_site=True)
    op.create_table(
        "sites",
        sa.Column("site", sa.String(SITE), primary_key=True),
        sa.Column("joined_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sites")
    for name, indexes in TABLES.items():
        _rekey(name, indexes, with_site=False)


def _rekey(name: str, indexes: list[tuple[str, list[str]]], *, with_site: bool) -> None:
    """Add `site` in front of the primary key of `name` (or take it away again)."""
    conn = op.get_bind()
    insp = sa.inspect(conn)
    pk = insp.get_pk_constraint(name)
    keys = [c for c in pk["constrained_columns"] if c != "site"]
    if conn.dialect.name == "postgresql":
        op.drop_constraint(pk["name"] or f"{name}_pkey", name, type_="primary")
        if with_site:
            op.add_column(name, sa.Column("site", sa.String(SITE), nullable=False, server_default=""))
            op.alter_column(name, "site", server_default=None)
        else:
            op.drop_column(name, "site")
        op.create_primary_key(f"{name}_pkey", name, ["site", *keys] if with_site else keys)
        return
    old = sa.Table(name, sa.MetaData(), autoload_with=conn)
    columns = [sa.Column(c.name, c.type, nullable=c.nullable) for c in old.columns if c.name != "site"]
    if with_site:
        columns.insert(0, sa.Column("site", sa.String(SITE), nullable=False))
    copy = f"_new_{name}"
    op.create_table(copy, *columns, sa.PrimaryKeyConstraint(*(["site", *keys] if with_site else keys)))
    kept = ", ".join(f'"{c.name}"' for c in old.columns if c.name != "site")
    into = f"\"site\", {kept}" if with_site else kept
    select = f"'', {kept}" if with_site else kept
    op.execute(f'INSERT INTO "{copy}" ({into}) SELECT {select} FROM "{name}"')
    for index, _cols in indexes:
        op.drop_index(index, table_name=name)
    op.drop_table(name)
    op.rename_table(copy, name)
    for index, cols in indexes:
        op.create_index(index, name, cols)
