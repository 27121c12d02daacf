"""per-walk tallies for the statistics: walk_tally, walk_tally_due and the triggers that list
a shift as due whenever a row its figures come from changes

Every existing shift is listed as due: vandra counts their tallies after the upgrade (in an
evaluation worker process, ``evaluation/tally_refresh.py``); until then the statistics count
those shifts from the raw rows, as before.

Revision ID: 0020_walk_tallies
Revises: 0019_tick_indexes
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020_walk_tallies"
down_revision: str | None = "0019_tick_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROWS = ("signup", "report", "alarm")  # tables whose rows name their shift (shift_id)
INTEGERS = [
    "held",
    "cancelled",
    "understaffed",
    "confirmed",
    "seats",
    "incidents",
    "emergencies",
    "reported",
    "reports",
    "youth_0",
    "youth_1",
    "youth_2",
    "youth_3",
    "youth_4",
    "mood_0",
    "mood_1",
    "mood_2",
    "alarms",
    "false_alarms",
    "expected",
    "no_shows",
    "walked_ms",
    "band_mask",
    "band_0_ms",
    "band_1_ms",
    "band_2_ms",
    "band_3_ms",
    "local_day",
]
UTC = sqlmodel.sql.sqltypes.UTCDateTime
TEXT = sqlmodel.sql.sqltypes.AutoString


def _integer(name: str) -> sa.types.TypeEngine[int]:
    """Milliseconds walked are 64-bit: 100 walkers for 16 hours is 5.8e9."""
    return sa.BigInteger() if name.endswith("_ms") else sa.Integer()


def upgrade() -> None:
    op.create_table(
        "walk_tally",
        sa.Column("shift_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("basis", TEXT(length=80), nullable=False),
        sa.Column("counted_at", UTC(), nullable=False),
        sa.Column("start_at", UTC(), nullable=False),
        sa.Column("end_at", UTC(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("risk_night", sa.Boolean(), nullable=False),
        *[sa.Column(name, _integer(name), nullable=False) for name in INTEGERS],
        sa.Column("walkers", TEXT(), nullable=True),
        sa.Column("services", TEXT(), nullable=True),
        sa.Column("places", TEXT(), nullable=True),
        sa.PrimaryKeyConstraint("shift_id"),
    )
    op.create_table(
        "walk_tally_due",
        sa.Column("shift_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("due_at", UTC(), nullable=False),
        sa.Column("gen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("shift_id"),
    )
    op.create_index("ix_walk_tally_due_at", "walk_tally_due", ["due_at"], unique=False)
    op.create_index("ix_walk_tally_start_at", "walk_tally", ["start_at"], unique=False)
    op.create_index("ix_walk_tally_basis", "walk_tally", ["basis"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgres_triggers()
    op.execute("INSERT INTO walk_tally_due (shift_id, due_at, gen) SELECT id, end_at, 1 FROM shift")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _sqlite_trigger_names():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP FUNCTION IF EXISTS walk_tally_rows_changed() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS walk_tally_shift_changed() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS walk_tally_shift_deleted() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS walk_tally_trained_changed() CASCADE")
    op.drop_index("ix_walk_tally_basis", table_name="walk_tally")
    op.drop_index("ix_walk_tally_start_at", table_name="walk_tally")
    op.drop_index("ix_walk_tally_due_at", table_name="walk_tally_due")
    op.drop_table("walk_tally_due")
    op.drop_table("walk_tally")


UPSERT = (
    "ON CONFLICT (shift_id) DO UPDATE SET gen = walk_tally_due.gen + 1, due_at = excluded.due_at"
)


def _sqlite_enqueue(shift_id: str) -> str:
    """List the shift as due, then drop its tally (in this order, as on PostgreSQL)."""
    return (
        "INSERT INTO walk_tally_due (shift_id, due_at, gen) "
        f"SELECT id, end_at, 1 FROM shift WHERE id = {shift_id} {UPSERT}; "
        f"DELETE FROM walk_tally WHERE shift_id = {shift_id};"
    )


def _sqlite_trigger_names() -> list[str]:
    names = [f"walk_tally_{table}_{event}" for table in ROWS for event in ("ins", "upd", "del")]
    return [*names, "walk_tally_shift_ins", "walk_tally_shift_upd", "walk_tally_shift_del",
            "walk_tally_person_trained"]  # fmt: skip


def _sqlite_triggers() -> None:
    for table in ROWS:
        op.execute(f"CREATE TRIGGER walk_tally_{table}_ins AFTER INSERT ON {table} "
                   f"BEGIN {_sqlite_enqueue('NEW.shift_id')} END")  # fmt: skip
        op.execute(
            f"CREATE TRIGGER walk_tally_{table}_upd AFTER UPDATE ON {table} "
            f"BEGIN {_sqlite_enqueue('OLD.shift_id')} {_sqlite_enqueue('NEW.shift_id')} END"
        )
        op.execute(f"CREATE TRIGGER walk_tally_{table}_del AFTER DELETE ON {table} "
                   f"BEGIN {_sqlite_enqueue('OLD.shift_id')} END")  # fmt: skip
    op.execute(f"CREATE TRIGGER walk_tally_shift_ins AFTER INSERT ON shift "
               f"BEGIN {_sqlite_enqueue('NEW.id')} END")  # fmt: skip
    op.execute(f"CREATE TRIGGER walk_tally_shift_upd AFTER UPDATE ON shift "
               f"BEGIN {_sqlite_enqueue('NEW.id')} END")  # fmt: skip
    op.execute(
        "CREATE TRIGGER walk_tally_shift_del AFTER DELETE ON shift BEGIN "
        "DELETE FROM walk_tally WHERE shift_id = OLD.id; "
        "DELETE FROM walk_tally_due WHERE shift_id = OLD.id; END"
    )
    op.execute(
        "CREATE TRIGGER walk_tally_person_trained AFTER UPDATE OF trained ON person "
        "WHEN OLD.trained IS NOT NEW.trained BEGIN "
        "INSERT INTO walk_tally_due (shift_id, due_at, gen) "
        "SELECT s.id, s.end_at, 1 FROM signup su JOIN shift s ON s.id = su.shift_id "
        f"WHERE su.person_id = NEW.id {UPSERT}; "
        "DELETE FROM walk_tally WHERE shift_id IN "
        "(SELECT su.shift_id FROM signup su WHERE su.person_id = NEW.id); END"
    )


def _pg_list(shift_ids: str) -> str:
    """List the shifts as due, then drop their tallies (in this order: a refresh locks the
    listed rows first too, so the two never wait for each other round). Driven from the
    changed rows (each shift once), so a bulk load never compares every shift with them."""
    changed = f"(SELECT DISTINCT x.id FROM ({shift_ids}) AS x(id)) AS n"
    return (
        "INSERT INTO walk_tally_due (shift_id, due_at, gen) SELECT s.id, s.end_at, 1 "
        f"FROM {changed} JOIN shift s ON s.id = n.id {UPSERT}; "
        f"DELETE FROM walk_tally t USING {changed} WHERE t.shift_id = n.id;"
    )


def _pg_function(name: str, body: str) -> None:
    op.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
        "RETURN NULL; END $$"
    )


def _postgres_triggers() -> None:
    """Statement triggers over the changed rows (transition tables): a bulk load or COPY
    lists each shift once per statement, not once per row."""
    _pg_function(
        "walk_tally_rows_changed",
        f"IF TG_OP = 'INSERT' THEN {_pg_list('SELECT shift_id FROM new_rows')} "
        f"ELSIF TG_OP = 'DELETE' THEN {_pg_list('SELECT shift_id FROM old_rows')} "
        f"ELSE {_pg_list('SELECT shift_id FROM old_rows UNION SELECT shift_id FROM new_rows')} "
        "END IF;",
    )
    _pg_function("walk_tally_shift_changed", _pg_list("SELECT id FROM new_rows"))
    _pg_function(
        "walk_tally_shift_deleted",
        "DELETE FROM walk_tally WHERE shift_id IN (SELECT id FROM old_rows); "
        "DELETE FROM walk_tally_due WHERE shift_id IN (SELECT id FROM old_rows);",
    )
    _pg_function(
        "walk_tally_trained_changed",
        _pg_list(
            "SELECT su.shift_id FROM signup su JOIN new_rows n ON n.id = su.person_id "
            "JOIN old_rows o ON o.id = n.id WHERE n.trained IS DISTINCT FROM o.trained"
        ),
    )
    for table in ROWS:
        _pg_trigger(table, "walk_tally_rows_changed", "INSERT", "NEW TABLE AS new_rows")
        _pg_trigger(table, "walk_tally_rows_changed", "UPDATE",
                    "OLD TABLE AS old_rows NEW TABLE AS new_rows")  # fmt: skip
        _pg_trigger(table, "walk_tally_rows_changed", "DELETE", "OLD TABLE AS old_rows")
    _pg_trigger("shift", "walk_tally_shift_changed", "INSERT", "NEW TABLE AS new_rows")
    _pg_trigger("shift", "walk_tally_shift_changed", "UPDATE", "NEW TABLE AS new_rows")
    _pg_trigger("shift", "walk_tally_shift_deleted", "DELETE", "OLD TABLE AS old_rows")
    _pg_trigger("person", "walk_tally_trained_changed", "UPDATE",
                "OLD TABLE AS old_rows NEW TABLE AS new_rows")  # fmt: skip


def _pg_trigger(table: str, function: str, event: str, tables: str) -> None:
    op.execute(
        f"CREATE TRIGGER walk_tally_{table}_{event.lower()} AFTER {event} ON {table} "
        f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )
