"""phishing reports

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "phishing_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("reporter", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("message_sha256", sa.String(length=64), nullable=False),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("analyst_verdict", sa.String(length=16), nullable=True),
        sa.Column("analyst", sa.String(length=128), nullable=True),
        sa.Column("analyst_note", sa.Text(), nullable=True),
        sa.Column("overridden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishments.id"],
            name=op.f("fk_phishing_reports_establishment_id_establishments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phishing_reports")),
        sa.UniqueConstraint(
            "establishment_id", "message_sha256", name="uq_phishing_reports_message"
        ),
    )
    with op.batch_alter_table("phishing_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_phishing_reports_establishment_received",
            ["establishment_id", "received_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("phishing_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_phishing_reports_establishment_received")
    op.drop_table("phishing_reports")
