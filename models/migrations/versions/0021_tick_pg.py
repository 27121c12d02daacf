"""the scheduler's tick on PostgreSQL: rejected walkers, lapsing record checks and flagged
reports found by partial indexes (the tick looked through every person, or every report,
for each)

Revision ID: 0021_tick_pg
Revises: 0020_walk_tallies
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_tick_pg"
down_revision: str | None = "0020_walk_tallies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REJECTED = sa.text("rejected_at IS NOT NULL")
RECORD_CHECKED = sa.text("record_checked_on IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(
            "ix_person_rejected",
            ["rejected_at"],
            unique=False,
            sqlite_where=REJECTED,
            postgresql_where=REJECTED,
        )
        batch_op.create_index(
            "ix_person_record_checked",
            ["record_checked_on"],
            unique=False,
            sqlite_where=RECORD_CHECKED,
            postgresql_where=RECORD_CHECKED,
        )


    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_flagged",
            ["shift_id"],
            unique=False,
            sqlite_where=sa.text("follow_up IS 1"),
            postgresql_where=sa.text("follow_up IS TRUE"),
        )


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_flagged")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_record_checked")
        batch_op.drop_index("ix_person_rejected")
