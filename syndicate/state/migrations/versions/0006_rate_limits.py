"""The embedded rate limiter's state (`syndicate.state.ratesql`): grants in each window, and pauses.

Revision ID: 0006
Revises: 0005

Without Redis, the client-side limiter keeps its sliding logs in the ledger's
database, so every process using the ledger (two `push`, a `watch`) shares one
budget per platform account. Accounts are not per site: two sites posting with
one dev.to key share its limit, as the platform counts it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_grants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("window", sa.String(200), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
    )
    op.create_index("ix_rate_grants_window", "rate_grants", ["account", "window", "at"])
    op.create_table(
        "rate_pauses",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("until", sa.Float, nullable=False),
        sa.Column("gap", sa.Float, nullable=False),
        sa.Column("gap_until", sa.Float, nullable=False),
        sa.Column("next_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_pauses")
    op.drop_index("ix_rate_grants_window", table_name="rate_grants")
    op.drop_table("rate_grants")
