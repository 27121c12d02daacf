"""one-time confirmation codes, random alert references, dashboard sessions

Revision ID: 0011_smsauth
Revises: 0010_alarm
Create Date: 2026-12-05
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011_smsauth"
down_revision: str | None = "0010_alarm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def upgrade() -> None:
    op.create_table(
        "confirmation_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("confirmation_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_confirmation_code_person_id"), ["person_id"], unique=False
        )
    op.create_table(
        "dashboard_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sid"),
    )
    with op.batch_alter_table("dashboard_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_session_person_id"), ["person_id"], unique=False
        )
    with op.batch_alter_table("safety_alert", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True)
        )
    bind = op.get_bind()
    for (alert_id,) in bind.execute(sa.text("SELECT id FROM safety_alert")).all():
        ref = secrets.choice(ALPHABET[:24]) + "".join(secrets.choice(ALPHABET) for _ in range(5))
        bind.execute(
            sa.text("UPDATE safety_alert SET ref = :ref WHERE id = :id"),
            {"ref": ref, "id": alert_id},
        )
    with op.batch_alter_table("safety_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_alert_ref"), ["ref"], unique=True)
    # the dashboard's signing key now comes from the configuration: none left in backups
    op.execute("DELETE FROM app_secret WHERE name = 'dashboard'")


def downgrade() -> None:
    with op.batch_alter_table("safety_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safety_alert_ref"))
        batch_op.drop_column("ref")
    with op.batch_alter_table("dashboard_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_session_person_id"))
    op.drop_table("dashboard_session")
    with op.batch_alter_table("confirmation_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confirmation_code_person_id"))
    op.drop_table("confirmation_code")
