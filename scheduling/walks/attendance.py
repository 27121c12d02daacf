"""Who came: after a shift its lead (else the coordinator) is asked "Vilka var med?" with the
confirmed walkers, those who checked in marked already; what they confirm is recorded as
attendance, and a confirmed walker marked absent is a no-show (``Signup.no_show``, counted in
``Person.no_show_count``).

The question is a due rule (``attendance_checks``, once per shift through a ``DueMark``),
``report_prompt_after`` the planned end (held through quiet hours, so a night walk's lead is
asked in the morning), and may be answered for a week.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from models.tables import Person, Role, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.due_planning import fire_once, not_fired, plan
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage
from scheduling.people.access import Actor, audit, require_manager
from scheduling.walks.series import MAX_SHIFT_LENGTH
from scheduling.walks.shifts import get_shift

LOOKBACK = timedelta(hours=24)
ANSWER_WITHIN = timedelta(days=7)
MARK = "attendance:shift:"  # the due mark: asked once per shift


@dataclass(frozen=True)
class Attendee:
    """A confirmed walker of the shift, as the lead marks them."""

    person_id: int
    name: str
    checked_in: bool
    no_show: bool


async def _askees(session: AsyncSession, organisation_id: int) -> list[int]:
    """The organisation's leads; the coordinators when it has none."""
    for role, org in ((Role.LEAD, organisation_id), (Role.COORDINATOR, None)):
        statement = select(Person.id).where(
            col(Person.erased_at).is_(None), col(Person.role) == role
        )
        if org is not None:
            statement = statement.where(col(Person.organisation_id) == org)
        found = [i for i in (await session.exec(statement.order_by(col(Person.id)))).all() if i]
        if found:
            return found
    return []


@cache
def _walked_statement() -> SelectOfScalar[Shift]:
    """Shifts with confirmed walkers that ended in (after, until], not asked yet: built
    once, its times bound as parameters (it runs on every tick)."""
    confirmed = exists().where(
        col(Signup.shift_id) == col(Shift.id), col(Signup.status) == SignupStatus.CONFIRMED
    )
    return (
        select(Shift)
        .where(  # bounded by start too: the start has an index, and years of shifts lie behind
            col(Shift.start_at) > bindparam("starts_after"),
            col(Shift.start_at) <= bindparam("ends_until"),
            col(Shift.status) != ShiftStatus.CANCELLED,
            col(Shift.end_at) <= bindparam("ends_until"),
            col(Shift.end_at) > bindparam("ends_after"),
            confirmed,
            not_fired(MARK),  # those asked already are left out by the statement
        )
        .order_by(col(Shift.id))
    )


async def attendance_checks(ctx: Context, session: AsyncSession, now: datetime) -> list[NewMessage]:
    """The due rule: "Vilka var med?" for shifts with confirmed walkers that just ended."""
    ends_until = now - ctx.settings.reminders.report_prompt_after
    params = {
        "starts_after": ends_until - LOOKBACK - MAX_SHIFT_LENGTH,
        "ends_after": ends_until - LOOKBACK,
        "ends_until": ends_until,
    }
    walked = await session.exec(_walked_statement(), params=params)
    shifts = {f"{MARK}{s.id}": s for s in walked.all()}
    messages: list[NewMessage] = []
    for mark, shift in shifts.items():
        if not await fire_once(session, mark, now):
            continue
        for person_id in await _askees(session, shift.organisation_id):
            messages.append(
                plan(
                    ctx,
                    now,
                    key=f"{mark}:person:{person_id}",
                    kind=Kind.ATTENDANCE_CHECK,
                    person_id=person_id,
                    moment=shift.end_at + ctx.settings.reminders.report_prompt_after,
                    expires_at=shift.end_at + ANSWER_WITHIN,
                    shift_start=None,  # bookkeeping: held through quiet hours (morning)
                    payload={"shift_id": shift.id},
                )
            )
    return messages


async def _managed_shift(ctx: Context, actor: Actor, shift_id: int, action: str) -> Shift:
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
    await require_manager(
        ctx.store, actor, action, shift.organisation_id, ctx.now(), target=f"shift:{shift_id}"
    )
    if shift.start_at > ctx.now():
        raise DomainError("shift_not_started", shift=shift_id)
    return shift


async def attendees(ctx: Context, actor: Actor, shift_id: int) -> list[Attendee]:
    """The shift's confirmed walkers, for its lead or a coordinator, once it has started."""
    await _managed_shift(ctx, actor, shift_id, "signups.attendance")
    async with ctx.store.transaction() as session:
        rows = await session.exec(
            select(Signup, Person)
            .join(Person, col(Person.id) == col(Signup.person_id))
            .where(col(Signup.shift_id) == shift_id, col(Signup.status) == SignupStatus.CONFIRMED)
            .order_by(col(Person.name))
        )
        return [
            Attendee(p.id or 0, p.name, s.checked_in_at is not None, s.no_show)
            for s, p in rows.all()
        ]


async def record_attendance(
    ctx: Context, actor: Actor, shift_id: int, present: Iterable[int]
) -> tuple[int, int]:
    """Record who came; every other confirmed walker is a no-show. (came, absent)."""
    await _managed_shift(ctx, actor, shift_id, "signups.attendance")
    came = set(present)
    now = ctx.now()
    async with ctx.store.transaction() as session:
        rows = await session.exec(
            select(Signup, Person)
            .join(Person, col(Person.id) == col(Signup.person_id))
            .where(col(Signup.shift_id) == shift_id, col(Signup.status) == SignupStatus.CONFIRMED)
        )
        absent = 0
        for signup, person in rows.all():
            no_show = person.id not in came
            absent += no_show
            if signup.no_show != no_show:
                person.no_show_count = max(0, person.no_show_count + (1 if no_show else -1))
                signup.no_show = no_show
                session.add_all([signup, person])
        audit(
            session,
            actor,
            "signups.attendance",
            now,
            target=f"shift:{shift_id}",
            present=sorted(came),
            absent=absent,
        )
    return len(came), absent
