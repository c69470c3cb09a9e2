"""detect alerts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 11:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "detect_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("host_key", sa.String(length=255), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("attack", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_detect_alerts_asset_id_assets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishments.id"],
            name=op.f("fk_detect_alerts_establishment_id_establishments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detect_alerts")),
        sa.UniqueConstraint("establishment_id", "group_key", name="uq_detect_alerts_group"),
    )
    with op.batch_alter_table("detect_alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_detect_alerts_establishment_first",
            ["establishment_id", "first_seen"],
            unique=False,
        )
        batch_op.create_index(
            "ix_detect_alerts_establishment_host",
            ["establishment_id", "host_key"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("detect_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_detect_alerts_establishment_host")
        batch_op.drop_index("ix_detect_alerts_establishment_first")
    op.drop_table("detect_alerts")
