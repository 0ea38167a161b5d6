"""Check-ins, reports, moderation actions and the daily address salts.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _who_and_when() -> list[sa.Column]:
    return [sa.Column("device", sa.String(32), nullable=False),
            sa.Column("client", sa.String(32), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        *_who_and_when())
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amenity", sa.String(20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("note_status", sa.String(10), nullable=True),
        sa.Column("in_hours", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        *_who_and_when())
    for table in ("checkins", "reports"):
        op.create_index(f"ix_{table}_station_time", table, ["station_id", "created_at"])
        op.create_index(f"ix_{table}_device", table, ["device", "station_id", "created_at"])
        op.create_index(f"ix_{table}_time", table, ["created_at"])
    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False))
    op.create_index("ix_moderation_actions_report_id", "moderation_actions", ["report_id"])
    op.create_table(
        "salts",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("salt", sa.String(64), nullable=False))


def downgrade() -> None:
    for table in ("salts", "moderation_actions", "reports", "checkins"):
        op.drop_table(table)
