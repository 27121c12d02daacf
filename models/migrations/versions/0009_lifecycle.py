"""the walker's life cycle: approval and vetting records

Revision ID: 0009_lifecycle
Revises: 0006_signup_offers
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_lifecycle"
down_revision: str | None = "0006_signup_offers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("approved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("rejected_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("waiting_shift_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("course_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("record_checked_on", sa.Date(), nullable=True))
    # Everyone already stored was let in before approval existed.
    op.execute("UPDATE person SET approved_at = created_at WHERE erased_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("record_checked_on")
        batch_op.drop_column("course_on")
        batch_op.drop_column("waiting_shift_id")
        batch_op.drop_column("rejected_at")
        batch_op.drop_column("approved_at")
