"""Thread parts, instance facts, watched files; `syndication` gains reason, deleted_at, parts_total.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("syndication", sa.Column("reason", sa.Text, nullable=True))
    op.add_column("syndication", sa.Column("deleted_at", TZ, nullable=True))
    op.add_column("syndication", sa.Column("parts_total", sa.Integer, nullable=True))
    op.create_table(
        "syndication_part",
        sa.Column("post_id", sa.String(128), primary_key=True),
        sa.Column("target", sa.String(128), primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("idem_key", sa.String(300), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("remote_id", sa.Text, nullable=True),
        sa.Column("remote_url", sa.Text, nullable=True),
        sa.Column("remote_extra", sa.Text, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "facts",
        sa.Column("scope", sa.String(300), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("fetched_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_table(
        "files",
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("inode", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("post_id", sa.String(128), nullable=True),
        sa.Column("seen_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("files")
    op.drop_table("facts")
    op.drop_table("syndication_part")
    # SQLite drops columns natively only from 3.35: https://www.sqlite.org/lang_altertable.html
    with op.batch_alter_table("syndication") as batch:
        batch.drop_column("parts_total")
        batch.drop_column("deleted_at")
        batch.drop_column("reason")
