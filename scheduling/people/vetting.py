"""Vetting records: the walk course (what "trained" means) and the day a police-record extract
was shown to a lead (no document is stored). ``[walks] record_check_valid`` (months) says how
long a check holds; a month before it lapses the walker and their leads are reminded (a due
rule); ``[walks] require_record_check`` makes a valid one a condition for signing up.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import OutboxMessage, Person, Role
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput
from scheduling.common.localtime import usable_day
from scheduling.messages.due_planning import plan
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage
from scheduling.people.access import Actor, audit, require_manager
from scheduling.people.directory import get_person

REMIND_BEFORE = timedelta(days=30)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def record_check_until(ctx: Context, person: Person) -> date | None:
    """The last day the person's record check holds, or None without one."""
    checked = person.record_checked_on
    return add_months(checked, ctx.settings.walks.record_check_valid) if checked else None


def require_valid_record_check(ctx: Context, person: Person, now: datetime) -> None:
    """Refuse a sign-up without a valid record check when ``require_record_check`` is on."""
    if not ctx.settings.walks.require_record_check:
        return
    until = record_check_until(ctx, person)
    if until is None or until < now.astimezone(ctx.zone).date():
        raise DomainError("record_check_required")


async def set_vetting(
    ctx: Context,
    actor: Actor,
    person_id: int,
    *,
    course_on: date | None = None,
    record_checked_on: date | None = None,
) -> Person:
    """Record the walk course and/or a record check: the person's lead or a coordinator."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
    await require_manager(
        ctx.store,
        actor,
        "people.vetting",
        person.organisation_id,
        now,
        target=f"person:{person_id}",
    )
    _check_days(ctx, course_on, record_checked_on)
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        if course_on is not None:
            person.course_on = course_on
            person.trained = True
        if record_checked_on is not None:
            person.record_checked_on = record_checked_on
        session.add(person)
        audit(
            session,
            actor,
            "people.vetting",
            now,
            target=f"person:{person_id}",
            course_on=course_on and course_on.isoformat(),
            record_checked_on=record_checked_on and record_checked_on.isoformat(),
        )
    return person


def _check_days(ctx: Context, *days: date | None) -> None:
    """A course or record check took place: not after today (a typo like 2062 would keep a
    check valid for decades), not before 2000."""
    today = ctx.now().astimezone(ctx.zone).date()
    for day in days:
        if day is not None and usable_day(day) > today:
            raise InvalidInput("date_in_future", date=day.isoformat())


async def record_check_reminders(
    ctx: Context, session: AsyncSession, now: datetime
) -> list[NewMessage]:
    """The due rule: a month before a record check lapses, the walker and their leads."""
    today = now.astimezone(ctx.zone).date()
    months = ctx.settings.walks.record_check_valid
    # checked on or before this day: lapses within a month (checked_on + months <= today + 30d)
    latest = add_months(today + REMIND_BEFORE, -months)
    rows = await session.exec(
        select(Person).where(
            col(Person.erased_at).is_(None),
            col(Person.record_checked_on).is_not(None),
            col(Person.record_checked_on) <= latest,
            col(Person.record_checked_on) > add_months(today, -months),
        )
    )
    messages: list[NewMessage] = []
    for person in rows.all():
        until = record_check_until(ctx, person)
        assert until is not None and person.id is not None
        payload = {"person_id": person.id, "name": person.name, "until": until.isoformat()}
        for recipient in [person.id, *await _leads(session, person.organisation_id)]:
            messages.append(
                plan(
                    ctx,
                    now,
                    key=f"recordcheck:person:{person.id}:{until.isoformat()}:to:{recipient}",
                    kind=Kind.RECORD_CHECK_LAPSING,
                    person_id=recipient,
                    moment=now,
                    expires_at=None,
                    shift_start=None,
                    payload=payload,
                )
            )
    return await _not_queued(session, messages)


async def _not_queued(session: AsyncSession, messages: list[NewMessage]) -> list[NewMessage]:
    """Leave out the reminders already in the outbox (the rule runs on every tick)."""
    if not messages:
        return []
    keys = [m.key for m in messages]
    queued = await session.exec(
        select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(keys))
    )
    have = set(queued.all())
    return [m for m in messages if m.key not in have]


async def _leads(session: AsyncSession, organisation_id: int | None) -> list[int]:
    if organisation_id is None:
        return []
    rows = await session.exec(
        select(Person.id).where(
            col(Person.erased_at).is_(None),
            col(Person.role) == Role.LEAD,
            col(Person.organisation_id) == organisation_id,
        )
    )
    return [i for i in rows.all() if i is not None]
