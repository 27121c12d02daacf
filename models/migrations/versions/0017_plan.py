"""editing the plan and announcements: a shift's own meeting point, its edit count (the
calendar's SEQUENCE), its moves (the reminders' revision) and when it last moved; a walker's
opt-out of announcements; an announcement's area and night

Revision ID: 0017_plan
Revises: 0016_street
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017_plan"
down_revision: str | None = "0016_street"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shift", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_point", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("sequence", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("moves", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("moved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "announcements_off", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("night", sa.Date(), nullable=True))
        batch_op.create_foreign_key("fk_broadcast_area_id", "area", ["area_id"], ["id"])
        batch_op.create_index("ix_broadcast_author_created", ["author_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcast_author_created")
        batch_op.drop_constraint("fk_broadcast_area_id", type_="foreignkey")
        batch_op.drop_column("night")
        batch_op.drop_column("area_id")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("announcements_off")
    with op.batch_alter_table("shift", schema=None) as batch_op:
        batch_op.drop_column("moved_at")
        batch_op.drop_column("moves")
        batch_op.drop_column("sequence")
        batch_op.drop_column("meeting_point")
