"""Helpers the due rules share: planning one message, finding who has none yet, firing once.

A rule never remembers anything itself. It asks the store which walkers of the shifts in its
time window have no outbox row under the rule's key yet (``NOT EXISTS`` on the unique
``dedupe_key``), or whether a shift-level trigger has fired (a ``due_mark`` row), and writes
what is missing. Running it again writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Executable, Select, String, and_, bindparam, cast, exists, literal, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.sqltypes import UTCDateTime

from models import first_write
from models.tables import (
    DueMark,
    OutboxMessage,
    OutboxStatus,
    Person,
    Shift,
    ShiftStatus,
    Signup,
    SignupStatus,
)
from scheduling.common.context import Context
from scheduling.messages.outbox import NewMessage
from scheduling.messages.quiet import send_time

MISSED = "missed: its moment passed while vandra was not running"


def label_of(before: timedelta) -> str:
    """A duration as it appears in dedupe keys: ``24h``, ``2h``, ``90m``, ``45s``."""
    seconds = int(before.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class WalkerRow:
    """A confirmed walker of a shift in a rule's window, without that rule's message yet."""

    signup_id: int
    person_id: int
    shift_id: int
    start_at: datetime
    end_at: datetime
    confirmed_at: datetime | None
    no_show: bool
    moves: int = 0  # the shift's moves: a reminder's revision (``revision_suffix``)
    moved_at: datetime | None = None


def revision_suffix(moves: int) -> str:
    """What a reminder's key carries after a shift moved: ``:r1`` (nothing before a move)."""
    return f":r{moves}" if moves else ""


def plan(
    ctx: Context,
    now: datetime,
    *,
    key: str,
    kind: str,
    person_id: int,
    moment: datetime,
    expires_at: datetime | None,
    shift_start: datetime | None,
    payload: dict[str, Any],
    urgent: bool = False,
) -> NewMessage:
    """One message due at ``moment``: held through quiet hours, or recorded as missed when it
    can no longer matter."""
    message = NewMessage(
        key=key,
        kind=kind,
        person_id=person_id,
        due_at=moment,
        payload=payload,
        expires_at=expires_at,
        urgent=urgent,
    )
    if expires_at is not None and expires_at <= now:
        return replace(message, status=OutboxStatus.EXPIRED, last_error=MISSED)
    quiet = ctx.settings.reminders.quiet_hours
    due_at = send_time(
        moment, now, quiet=quiet, zone=ctx.zone, shift_start=shift_start, urgent=urgent
    )
    return replace(message, due_at=due_at)


_WALKER_COLUMNS = (  # in the order of ``WalkerRow``'s fields
    col(Signup.id),
    col(Signup.person_id),
    col(Shift.id),
    col(Shift.start_at),
    col(Shift.end_at),
    col(Signup.confirmed_at),
    col(Signup.no_show),
    col(Shift.moves),
    col(Shift.moved_at),
)


def _key(key_prefix: str, moved: bool) -> ColumnElement[str]:
    """``<key_prefix><signup id>``, with the shift's ``revision_suffix`` when ``moved``."""
    key = literal(key_prefix, String).concat(cast(col(Signup.id), String))
    if moved:
        key = key.concat(literal(":r", String)).concat(cast(col(Shift.moves), String))
    return key


async def walkers_without(
    session: AsyncSession,
    key_prefix: str,
    *,
    starts_after: datetime,
    starts_until: datetime,
    ends_after: datetime | None = None,
    ends_until: datetime | None = None,
    revised: bool = False,
    done_mark: str | None = None,
) -> list[WalkerRow]:
    """Confirmed walkers of not-cancelled shifts starting in (after, until] (and ending in the
    given range) that have no outbox row ``<key_prefix><signup id>`` yet (``revised``: with the
    shift's ``revision_suffix``, so that a moved shift's walkers are reminded afresh);
    ``done_mark``: only of shifts without the due mark ``done_key(done_mark)`` (``mark_done``).

    The statement is built once per shape, its times bound as parameters: building and keying
    SQLAlchemy's expression on every tick cost more than running it."""
    ends = (ends_after is not None, ends_until is not None)
    statement = _walkers_statement(key_prefix, revised, ends, done_mark)
    params = {"starts_after": starts_after, "starts_until": starts_until}
    params |= {"ends_after": ends_after, "ends_until": ends_until}  # type: ignore[dict-item]
    rows = (await session.exec(statement, params=params)).all()  # type: ignore[call-overload]
    return [WalkerRow(*row) for row in rows]


@cache
def _walkers_statement(
    key_prefix: str, revised: bool, ends: tuple[bool, bool], done_mark: str | None
) -> Executable:
    done = None if done_mark is None else done_key(done_mark)
    unmarked = None if done is None else ~exists().where(col(DueMark.key) == done)
    if not revised:
        return _walkers(key_prefix, False, ends, unmarked)
    moved, unmoved = col(Shift.moves) > 0, col(Shift.moves) == 0
    if unmarked is not None:
        moved, unmoved = and_(moved, unmarked), and_(unmoved, unmarked)
    # two plain keys, not one CASE: PostgreSQL then finds each in the key's index; in one
    # statement: one round trip
    return union_all(
        _walkers(key_prefix, False, ends, unmoved), _walkers(key_prefix, True, ends, moved)
    )


def _walkers(
    key_prefix: str, moved: bool, ends: tuple[bool, bool], condition: ColumnElement[bool] | None
) -> Select[*tuple[Any, ...]]:
    key = _key(key_prefix, moved)
    statement = (
        sa_select(*_WALKER_COLUMNS)
        .join(Shift, col(Shift.id) == col(Signup.shift_id))
        .join(Person, col(Person.id) == col(Signup.person_id))
        .where(
            col(Shift.start_at) > bindparam("starts_after"),
            col(Shift.start_at) <= bindparam("starts_until"),
            col(Shift.status) != ShiftStatus.CANCELLED,
            col(Signup.status) == SignupStatus.CONFIRMED,
            col(Person.erased_at).is_(None),
            ~exists().where(col(OutboxMessage.dedupe_key) == key),
        )
    )
    if ends[0]:
        statement = statement.where(col(Shift.end_at) > bindparam("ends_after"))
    if ends[1]:
        statement = statement.where(col(Shift.end_at) <= bindparam("ends_until"))
    if condition is not None:
        statement = statement.where(condition)
    return statement


def done_key(done_mark: str) -> ColumnElement[str]:
    """A shift revision's due mark: ``<done_mark><shift id>:r<moves>`` (a move starts anew)."""
    return (
        literal(done_mark, String)
        .concat(cast(col(Shift.id), String))
        .concat(literal(":r", String))
        .concat(cast(col(Shift.moves), String))
    )


async def mark_done(
    session: AsyncSession,
    done_mark: str,
    now: datetime,
    *,
    starts_after: datetime,
    starts_until: datetime,
    alone: bool = False,
) -> None:
    """Fire the due mark ``done_key(done_mark)`` of every shift not cancelled starting in
    (after, until] that has none yet: one statement, written with the messages of the rule's
    transaction. ``alone``: the mark stands without them (no message of its own is to be
    written), so when nothing has been written before it needs no transaction (the usual
    tick: no BEGIN, no COMMIT; ``models/first_write.py``'s ``LONE_WRITE``)."""
    dialect = session.get_bind().dialect.name
    params = {"starts_after": starts_after, "starts_until": starts_until, "now": now}
    connection = await session.connection()  # Core: the ORM would take it for a bulk insert
    options = {first_write.LONE_WRITE: True} if alone else {}
    await connection.execute(_mark_statement(done_mark, dialect), params, execution_options=options)


@cache
def _mark_statement(done_mark: str, dialect: str) -> Executable:
    key = done_key(done_mark)
    unmarked = sa_select(key, bindparam("now", type_=UTCDateTime)).where(
        col(Shift.start_at) > bindparam("starts_after"),
        col(Shift.start_at) <= bindparam("starts_until"),
        col(Shift.status) != ShiftStatus.CANCELLED,
        ~exists().where(col(DueMark.key) == key),
    )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DueMark).from_select(["key", "created_at"], unmarked)
    return statement.on_conflict_do_nothing(index_elements=["key"])


def not_fired(key_prefix: str | ColumnElement[str]) -> ColumnElement[bool]:
    """No ``due_mark`` ``<key_prefix><shift id>`` yet: in the statement itself, so a tick reads
    only the shifts whose trigger is still to fire (one probe of the key's unique index
    each), not every shift of its window with a list of keys to look up after. The prefix
    may be an expression of the shift's columns."""
    prefix = literal(key_prefix, String) if isinstance(key_prefix, str) else key_prefix
    return ~exists().where(col(DueMark.key) == prefix.concat(cast(col(Shift.id), String)))


async def fired(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of these shift-level triggers have fired already."""
    if not keys:
        return set()
    result = await session.exec(select(DueMark.key).where(col(DueMark.key).in_(list(keys))))
    return set(result.all())


async def fire_once(session: AsyncSession, key: str, now: datetime) -> bool:
    """Record that a shift-level trigger fired; False when another tick did it first."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DueMark).values(key=key, created_at=now)
    statement = statement.on_conflict_do_nothing(index_elements=["key"])
    result = await session.exec(statement.returning(col(DueMark.id)))
    return result.first() is not None


def shift_payload(shift: Shift, **extra: Any) -> dict[str, Any]:
    return {"shift_id": shift.id, **extra}
