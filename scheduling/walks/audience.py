"""Who a message about a shift goes to, and how a set of shifts is staffed, in few queries.

Everything here reads only the shifts asked about (by id or by a start-time window, through
``ix_shift_status_start`` and ``ix_signup_shift_status``), never the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Executable, String, and_, bindparam, case, func, literal, or_
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Person, Role, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.messages.audiences import VETTED
from scheduling.messages.due_planning import not_fired
from scheduling.walks.series import MAX_SHIFT_LENGTH
from scheduling.walks.views import Staffing, staffing_state


@dataclass(frozen=True)
class StaffedShift:
    """A planned shift with its head-counts."""

    shift: Shift
    confirmed: int
    offered: int
    trained: int

    def staffing(self, trained_required: int) -> Staffing:
        return staffing_state(
            self.confirmed,
            self.trained,
            self.shift.min_walkers,
            self.shift.max_walkers,
            trained_required,
        )

    @property
    def seats_free(self) -> int:
        return self.shift.max_walkers - self.confirmed - self.offered


_CONFIRMED = col(Signup.status) == SignupStatus.CONFIRMED
_CONFIRMED_COUNT = func.sum(case((_CONFIRMED, 1), else_=0))
_TRAINED_COUNT = func.sum(case((and_(_CONFIRMED, col(Person.trained)), 1), else_=0))
_STAFFED = (
    sa_select(
        Shift,
        _CONFIRMED_COUNT,
        func.sum(case((col(Signup.status) == SignupStatus.OFFERED, 1), else_=0)),
        _TRAINED_COUNT,
    )
    .outerjoin(
        Signup,
        and_(
            col(Signup.shift_id) == col(Shift.id), col(Signup.status).in_(SignupStatus.HOLDS_SEAT)
        ),
    )
    .outerjoin(Person, col(Person.id) == col(Signup.person_id))
    .where(col(Shift.status) == ShiftStatus.PLANNED)
    .group_by(col(Shift.id))
    .order_by(col(Shift.start_at), col(Shift.id))
)


async def staffed_shifts(
    session: AsyncSession,
    *,
    starts_after: datetime | None = None,
    starts_until: datetime | None = None,
    shift_ids: Sequence[int] | None = None,
    unmarked: ColumnElement[bool] | None = None,
    understaffed_for: int | None = None,
) -> list[StaffedShift]:
    """Planned shifts in a start window (after, until] or by id, with their counts;
    ``unmarked``: only those without that due mark (``due_planning.not_fired``);
    ``understaffed_for``: only those understaffed with that many trained walkers required
    (``views.staffing_state``), chosen by the statement: the ticker's staffing rules read
    the few that are, not every shift of the next days as objects."""
    statement = _STAFFED if unmarked is None else _STAFFED.where(unmarked)
    if understaffed_for is not None:
        statement = statement.having(
            or_(
                func.coalesce(_CONFIRMED_COUNT, 0) < col(Shift.min_walkers),
                func.coalesce(_TRAINED_COUNT, 0) < understaffed_for,
            )
        )
    if starts_after is not None:
        statement = statement.where(col(Shift.start_at) > starts_after)
    if starts_until is not None:
        statement = statement.where(col(Shift.start_at) <= starts_until)
    if shift_ids is not None:
        statement = statement.where(col(Shift.id).in_(list(shift_ids)))
    rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    return [
        StaffedShift(
            shift=row[0],
            confirmed=int(row[1] or 0),
            offered=int(row[2] or 0),
            trained=int(row[3] or 0),
        )
        for row in rows
    ]


async def understaffed_unmarked(
    session: AsyncSession,
    *,
    starts_after: datetime,
    starts_until: datetime,
    marks: Sequence[tuple[str, datetime]],
    trained_required: int,
) -> list[StaffedShift]:
    """The ticker's staffing rules: planned shifts starting in (after, until], understaffed
    (as ``staffed_shifts(understaffed_for=)``), without the due mark ``<prefix><shift id>``
    whose prefix is the first of ``marks`` (prefix, until) the start is not after. The
    statement is built once per list of prefixes, its times bound as parameters: building
    and keying it on every tick cost more than the query."""
    statement = _understaffed_statement(tuple(prefix for prefix, _ in marks))
    params: dict[str, object] = {"starts_after": starts_after, "starts_until": starts_until}
    params["trained_required"] = trained_required
    params |= {f"mark_until_{n}": until for n, (_, until) in enumerate(marks)}
    rows = (await session.exec(statement, params=params)).all()  # type: ignore[call-overload]
    return [
        StaffedShift(row[0], int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)) for row in rows
    ]


@cache
def _understaffed_statement(prefixes: tuple[str, ...]) -> Executable:
    mark = case(
        *[
            (col(Shift.start_at) <= bindparam(f"mark_until_{n}"), literal(p, String))
            for n, p in enumerate(prefixes)
        ]
    )
    return (
        _STAFFED.where(
            not_fired(mark),
            col(Shift.start_at) > bindparam("starts_after"),
            col(Shift.start_at) <= bindparam("starts_until"),
        )
        .having(
            or_(
                func.coalesce(_CONFIRMED_COUNT, 0) < col(Shift.min_walkers),
                func.coalesce(_TRAINED_COUNT, 0) < bindparam("trained_required"),
            )
        )
    )


async def managers(session: AsyncSession, organisation_id: int) -> list[int]:
    """The organisation's leads and every coordinator: who hears about staffing and safety."""
    result = await session.exec(
        select(Person.id)
        .where(
            col(Person.erased_at).is_(None),
            or_(
                col(Person.role) == Role.COORDINATOR,
                and_(col(Person.role) == Role.LEAD, col(Person.organisation_id) == organisation_id),
            ),
        )
        .order_by(col(Person.id))
    )
    return [person_id for person_id in result.all() if person_id is not None]


async def free_volunteers(session: AsyncSession, shift: Shift) -> list[int]:
    """Registered volunteers of the shift's organisation let in to walk (``VETTED``), not on it
    and not on an overlapping
    planned shift. Three indexed queries: members, this shift's sign-ups, and the seats held
    on shifts in the overlap window."""
    members = await session.exec(
        select(Person.id)
        .where(
            col(Person.organisation_id) == shift.organisation_id,
            col(Person.role) == Role.VOLUNTEER,
            col(Person.erased_at).is_(None),
            col(Person.consent_at).is_not(None),
            col(Person.age_confirmed_at).is_not(None),
            VETTED,
        )
        .order_by(col(Person.id))
    )
    on_it = await session.exec(select(Signup.person_id).where(col(Signup.shift_id) == shift.id))
    excluded = set(on_it.all()) | await _busy_during(session, shift)
    return [p for p in members.all() if p is not None and p not in excluded]


async def _busy_during(session: AsyncSession, shift: Shift) -> set[int]:
    """People holding a seat on another planned shift overlapping this one."""
    result = await session.exec(
        select(Signup.person_id)
        .join(Shift, col(Shift.id) == col(Signup.shift_id))
        .where(
            col(Shift.status) == ShiftStatus.PLANNED,
            col(Shift.start_at) > shift.start_at - MAX_SHIFT_LENGTH,  # keeps the range short
            col(Shift.start_at) < shift.end_at,
            col(Shift.end_at) > shift.start_at,
            col(Shift.id) != shift.id,
            col(Signup.status).in_(SignupStatus.HOLDS_SEAT),
        )
    )
    return set(result.all())
