"""Webhook deliveries (replays, the push record) and the per-repository sync state and lock.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.String(200), primary_key=True),
        sa.Column("host", sa.String(16), nullable=False),
        sa.Column("ref", sa.Text, nullable=True),
        sa.Column("before", sa.String(64), nullable=True),
        sa.Column("after", sa.String(64), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
    )
    op.create_index("ix_deliveries_after", "deliveries", ["after"])
    op.create_index("ix_deliveries_received_at", "deliveries", ["received_at"])
    op.create_table(
        "syncs",
        sa.Column("repo", sa.String(300), primary_key=True),
        sa.Column("requested", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("full", sa.Boolean, nullable=False),
        sa.Column("commit", sa.String(64), nullable=True),
        sa.Column("synced_at", TZ, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("lease_until", TZ, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("syncs")
    op.drop_index("ix_deliveries_received_at", table_name="deliveries")
    op.drop_index("ix_deliveries_after", table_name="deliveries")
    op.drop_table("deliveries")
