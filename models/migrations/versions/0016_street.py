"""on the street: alarm references, meeting-point coordinates, numbers shared for one night

Revision ID: 0016_street
Revises: 0015_places
Create Date: 2026-12-05
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016_street"
down_revision: str | None = "0015_places"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def upgrade() -> None:
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
    with op.batch_alter_table("alarm", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True)
        )
    connection = op.get_bind()
    for (alarm_id,) in connection.execute(sa.text("SELECT id FROM alarm")).all():
        ref = secrets.choice(ALPHABET[:24]) + "".join(secrets.choice(ALPHABET) for _ in range(5))
        connection.execute(
            sa.text("UPDATE alarm SET ref = :ref WHERE id = :id"), {"ref": ref, "id": alarm_id}
        )
    with op.batch_alter_table("alarm", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarm_ref"), ["ref"], unique=True)
    op.create_table(
        "shared_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["shift_id"], ["shift.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shift_id", "person_id", name="uq_shared_number_shift_person"),
    )
    with op.batch_alter_table("shared_number", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shared_number_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_shared_number_shift_id"), ["shift_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shared_number", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shared_number_shift_id"))
        batch_op.drop_index(batch_op.f("ix_shared_number_person_id"))
    op.drop_table("shared_number")
    with op.batch_alter_table("alarm", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarm_ref"))
        batch_op.drop_column("ref")
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
