"""nights offered to organisations: the night and the claims on it

Revision ID: 0018_nights
Revises: 0017_plan
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018_nights"
down_revision: str | None = "0017_plan"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime
TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "night",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("start_at", UTC(), nullable=False),
        sa.Column("end_at", UTC(), nullable=False),
        sa.Column("min_walkers", sa.Integer(), nullable=False),
        sa.Column("max_walkers", sa.Integer(), nullable=False),
        sa.Column("status", TEXT(length=16), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("handed_on", sa.Integer(), nullable=False),
        sa.Column("offered_at", UTC(), nullable=True),
        sa.Column("published_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"]),
        sa.ForeignKeyConstraint(["holder_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["shift_id"], ["shift.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shift_id"),
    )
    with op.batch_alter_table("night", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_night_start_at"), ["start_at"], unique=False)
    op.create_table(
        "night_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("night_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", TEXT(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(["night_id"], ["night.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("night_id", "organisation_id", name="uq_night_claim_org"),
    )
    with op.batch_alter_table("night_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_night_claim_night_id"), ["night_id"], unique=False)


def downgrade() -> None:
    op.drop_table("night_claim")
    op.drop_table("night")
