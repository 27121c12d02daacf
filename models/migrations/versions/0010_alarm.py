"""alarms: the alarm table; outbox priority and a channel pinned per message; a shift's group lead

Revision ID: 0010_alarm
Revises: 0009_lifecycle
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010_alarm"
down_revision: str | None = "0009_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alarm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("raised_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("located_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column(
            "acknowledged_label", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True
        ),
        sa.Column("cancelled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["shift_id"], ["shift.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alarm", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarm_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarm_raised_at"), ["raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarm_shift_id"), ["shift_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alarm_status"), ["status"], unique=False)

    with op.batch_alter_table("shift", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_lead_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_shift_group_lead_id_person", "person", ["group_lead_id"], ["id"]
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("only_channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.create_index("ix_outbox_status_priority", ["status", "priority"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_priority")
        batch_op.drop_column("only_channel")
        batch_op.drop_column("priority")

    with op.batch_alter_table("shift", schema=None) as batch_op:
        batch_op.drop_constraint("fk_shift_group_lead_id_person", type_="foreignkey")
        batch_op.drop_column("group_lead_id")

    with op.batch_alter_table("alarm", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarm_status"))
        batch_op.drop_index(batch_op.f("ix_alarm_shift_id"))
        batch_op.drop_index(batch_op.f("ix_alarm_raised_at"))
        batch_op.drop_index(batch_op.f("ix_alarm_person_id"))

    op.drop_table("alarm")
