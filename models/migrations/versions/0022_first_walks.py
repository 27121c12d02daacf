"""each walker's first walk ever (first_walk) for the statistics' "new walkers", kept by
triggers on sign-ups, shifts and people; filled from the rows already there

A first walk is the earliest shift (by start, then id) not cancelled on which the person has a
confirmed sign-up with a check-in. A new qualifying sign-up can only make it earlier (one
upsert); a change that takes a walk away (a sign-up cancelled, a check-in undone, a shift
cancelled or moved, a sign-up deleted) counts the person's first walk again from their rows.
A shift or a person is deleted only after their sign-ups (foreign keys, on SQLite too), whose
triggers have counted again by then: deleting them needs no trigger of its own.

Revision ID: 0022_first_walks
Revises: 0021_tick_pg
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0022_first_walks"
down_revision: str | None = "0021_tick_pg"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sqlmodel.sql.sqltypes.UTCDateTime


def _walks(su: str, s: str) -> str:
    """A sign-up that is a walk: confirmed, checked in, on a shift not cancelled."""
    return (
        f"{su}.status = 'confirmed' AND {su}.checked_in_at IS NOT NULL "
        f"AND {s}.status <> 'cancelled'"
    )


def _firsts(pairs: str) -> str:
    """Of the (person_id, shift_id) walks ``pairs``: each person's earliest, as first_walk
    rows."""
    return (
        "SELECT w.person_id, w.shift_id, w.start_at FROM ("
        "SELECT x.person_id, s.id AS shift_id, s.start_at, ROW_NUMBER() OVER "
        "(PARTITION BY x.person_id ORDER BY s.start_at, s.id) AS n "
        f"FROM ({pairs}) x JOIN shift s ON s.id = x.shift_id WHERE s.status <> 'cancelled'"
        ") w WHERE w.n = 1"
    )


EARLIER = (
    "ON CONFLICT (person_id) DO UPDATE SET shift_id = excluded.shift_id, "
    "start_at = excluded.start_at WHERE excluded.start_at < first_walk.start_at "
    "OR (excluded.start_at = first_walk.start_at AND excluded.shift_id < first_walk.shift_id)"
)


def _offer(pairs: str) -> str:
    """New walks ``pairs`` (person_id, shift_id of qualifying sign-ups): a person's first walk
    becomes the earliest of it and them."""
    return f"INSERT INTO first_walk (person_id, shift_id, start_at) {_firsts(pairs)} {EARLIER};"


def _recount(people: str) -> str:
    """Count the first walk of each of ``people`` (person ids) again from their sign-ups;
    the row of one left without a walk is dropped."""
    pairs = (
        "SELECT su.person_id, su.shift_id FROM signup su JOIN shift s2 ON s2.id = su.shift_id "
        f"WHERE su.person_id IN ({people}) AND {_walks('su', 's2')}"
    )
    return (
        f"INSERT INTO first_walk (person_id, shift_id, start_at) {_firsts(pairs)} "
        "ON CONFLICT (person_id) DO UPDATE SET shift_id = excluded.shift_id, "
        "start_at = excluded.start_at; "
        f"DELETE FROM first_walk WHERE person_id IN ({people}) AND NOT EXISTS ("
        "SELECT 1 FROM signup su JOIN shift s ON s.id = su.shift_id "
        f"WHERE su.person_id = first_walk.person_id AND {_walks('su', 's')});"
    )


def upgrade() -> None:
    op.create_table(
        "first_walk",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("start_at", UTC(), nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
    )
    op.create_index("ix_first_walk_shift_id", "first_walk", ["shift_id"], unique=False)
    op.create_index("ix_first_walk_start_at", "first_walk", ["start_at"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgres_triggers()
    every = (
        "SELECT su.person_id, su.shift_id FROM signup su JOIN shift s2 ON s2.id = su.shift_id "
        f"WHERE {_walks('su', 's2')}"
    )
    op.execute(f"INSERT INTO first_walk (person_id, shift_id, start_at) {_firsts(every)}")


SQLITE_TRIGGERS = (
    "first_walk_signup_ins",
    "first_walk_signup_upd",
    "first_walk_signup_del",
    "first_walk_shift_upd",
)
PG_FUNCTIONS = (
    "first_walk_signups_added",
    "first_walk_signups_changed",
    "first_walk_signups_deleted",
    "first_walk_shifts_changed",
)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}() CASCADE")
    op.drop_index("ix_first_walk_start_at", table_name="first_walk")
    op.drop_index("ix_first_walk_shift_id", table_name="first_walk")
    op.drop_table("first_walk")


def _sqlite_triggers() -> None:
    """Row triggers; each fires only on a change that can move a first walk."""
    walked = "NEW.status = 'confirmed' AND NEW.checked_in_at IS NOT NULL"
    walked_before = "OLD.status = 'confirmed' AND OLD.checked_in_at IS NOT NULL"
    offer = (  # one row: no ranking needed
        "INSERT INTO first_walk (person_id, shift_id, start_at) "
        "SELECT NEW.person_id, s.id, s.start_at FROM shift s "
        f"WHERE s.id = NEW.shift_id AND s.status <> 'cancelled' AND {walked} {EARLIER};"
    )
    op.execute(
        f"CREATE TRIGGER first_walk_signup_ins AFTER INSERT ON signup WHEN {walked} "
        f"BEGIN {offer} END"
    )
    op.execute(
        "CREATE TRIGGER first_walk_signup_upd AFTER UPDATE ON signup WHEN "
        "OLD.status IS NOT NEW.status "
        "OR (OLD.checked_in_at IS NULL) <> (NEW.checked_in_at IS NULL) "
        "OR OLD.shift_id IS NOT NEW.shift_id OR OLD.person_id IS NOT NEW.person_id "
        f"BEGIN {_recount(f'SELECT OLD.person_id WHERE {walked_before}')} {offer} END"
    )
    op.execute(
        f"CREATE TRIGGER first_walk_signup_del AFTER DELETE ON signup WHEN {walked_before} "
        f"BEGIN {_recount('SELECT OLD.person_id')} END"
    )
    op.execute(
        "CREATE TRIGGER first_walk_shift_upd AFTER UPDATE ON shift WHEN "
        "(OLD.status = 'cancelled') IS NOT (NEW.status = 'cancelled') "
        "OR OLD.start_at IS NOT NEW.start_at BEGIN "
        + _recount(
            "SELECT su.person_id FROM signup su WHERE su.shift_id = NEW.id "
            "AND su.status = 'confirmed' AND su.checked_in_at IS NOT NULL"
        )
        + " END"
    )


def _pg_function(name: str, body: str) -> None:
    op.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
        "RETURN NULL; END $$"
    )


def _pg_recount(people: str) -> str:
    """``_recount`` after locking the people's rows (in id order): a transaction that moves
    one of their first walks meanwhile is waited for, and the count (a new snapshot, READ
    COMMITTED) sees what it wrote."""
    return (
        f"PERFORM 1 FROM first_walk WHERE person_id IN ({people}) "
        f"ORDER BY person_id FOR UPDATE; {_recount(people)}"
    )


def _postgres_triggers() -> None:
    """Statement triggers over the changed rows (transition tables): a bulk load or COPY
    counts each person once per statement."""
    walked = "n.status = 'confirmed' AND n.checked_in_at IS NOT NULL"
    changed = (
        "FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
        "(o.status, o.checked_in_at IS NULL, o.shift_id, o.person_id) IS DISTINCT FROM "
        "(n.status, n.checked_in_at IS NULL, n.shift_id, n.person_id)"
    )
    _pg_function(
        "first_walk_signups_added",
        _offer(f"SELECT n.person_id, n.shift_id FROM new_rows n WHERE {walked}"),
    )
    _pg_function(
        "first_walk_signups_changed",
        f"IF EXISTS (SELECT 1 {changed}) THEN "  # most updates change nothing of this
        + _pg_recount(
            f"SELECT o.person_id {changed} AND o.status = 'confirmed' "
            "AND o.checked_in_at IS NOT NULL"
        )
        + _offer(f"SELECT n.person_id, n.shift_id {changed} AND {walked}")
        + " END IF;",
    )
    _pg_function(
        "first_walk_signups_deleted",
        _pg_recount(
            "SELECT o.person_id FROM old_rows o "
            "WHERE o.status = 'confirmed' AND o.checked_in_at IS NOT NULL"
        ),
    )
    moved = (
        "FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
        "((o.status = 'cancelled') IS DISTINCT FROM (n.status = 'cancelled') "
        "OR o.start_at IS DISTINCT FROM n.start_at)"
    )
    _pg_function(
        "first_walk_shifts_changed",
        f"IF EXISTS (SELECT 1 {moved}) THEN "  # most updates change nothing of this
        + _pg_recount(
            f"SELECT su.person_id {moved.replace(' WHERE ', ' JOIN signup su ON su.shift_id = n.id WHERE ')} "
            "AND su.status = 'confirmed' AND su.checked_in_at IS NOT NULL"
        )
        + " END IF;",
    )
    _pg_trigger("signup", "first_walk_signups_added", "INSERT", "NEW TABLE AS new_rows")
    _pg_trigger("signup", "first_walk_signups_changed", "UPDATE",
                "OLD TABLE AS old_rows NEW TABLE AS new_rows")  # fmt: skip
    _pg_trigger("signup", "first_walk_signups_deleted", "DELETE", "OLD TABLE AS old_rows")
    _pg_trigger("shift", "first_walk_shifts_changed", "UPDATE",
                "OLD TABLE AS old_rows NEW TABLE AS new_rows")  # fmt: skip


def _pg_trigger(table: str, function: str, event: str, tables: str) -> None:
    op.execute(
        f"CREATE TRIGGER {function} AFTER {event} ON {table} "
        f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )
