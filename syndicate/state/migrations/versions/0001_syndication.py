"""The `syndication` table as the first release made it with `metadata.create_all`.

Revision ID: 0001
Revises: (none)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "syndication",
        sa.Column("post_id", sa.String(128), primary_key=True),
        sa.Column("target", sa.String(128), primary_key=True),
        sa.Column("post_path", sa.Text, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("idem_key", sa.String(300), nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("remote_id", sa.Text, nullable=True),
        sa.Column("remote_url", sa.Text, nullable=True),
        sa.Column("remote_extra", sa.Text, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("error_kind", sa.String(32), nullable=True),
        sa.Column("deferred_until", TZ, nullable=True),
        sa.Column("defer_reason", sa.Text, nullable=True),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("published_at", TZ, nullable=True),
    )
    op.create_index("ix_syndication_due", "syndication", ["state", "deferred_until"])


def downgrade() -> None:
    op.drop_index("ix_syndication_due", "syndication")
    op.drop_table("syndication")
