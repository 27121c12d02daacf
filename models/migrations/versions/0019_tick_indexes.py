"""the scheduler's tick over years of history: offers found by a partial index, leads and
coordinators by role

Revision ID: 0019_tick_indexes
Revises: 0018_nights
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_tick_indexes"
down_revision: str | None = "0018_nights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("offer_expires_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_index("ix_signup_offer_expires_at")
        batch_op.create_index(
            "ix_signup_offer_pending",
            ["offer_expires_at"],
            unique=False,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index("ix_person_role", ["role"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_role")
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_index("ix_signup_offer_pending")
        batch_op.create_index("ix_signup_offer_expires_at", ["offer_expires_at"], unique=False)
