"""an index for the statistics: each shift's walkers from the index alone

Revision ID: 0013_stats_indexes
Revises: 0012_outbox_lease
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_stats_indexes"
down_revision: str | None = "0012_outbox_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.create_index(
            "ix_signup_shift_walkers",
            ["shift_id", "status", "person_id", "checked_in_at", "checked_out_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_index("ix_signup_shift_walkers")
