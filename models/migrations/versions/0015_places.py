"""places for the kommun's fault reporting: place issues from reports, merged while open

Revision ID: 0015_places
Revises: 0014_followups
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015_places"
down_revision: str | None = "0014_followups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("spot", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("open_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("status_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    with op.batch_alter_table("place", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_status"), ["status"], unique=False)
    op.create_table(
        "place_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("place_id", "report_id", name="uq_place_report"),
    )
    with op.batch_alter_table("place_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_report_place_id"), ["place_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_place_report_report_id"), ["report_id"], unique=False)


def downgrade() -> None:
    op.drop_table("place_report")
    op.drop_table("place")
