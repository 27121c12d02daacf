"""signup.offers: each seat offered from the waitlist has a number of its own

Revision ID: 0006_signup_offers
Revises: 0005_broadcast
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_signup_offers"
down_revision: str | None = "0005_broadcast"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offers", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_column("offers")
