"""The group before it meets: ``[reminders] group_intro_before`` the start, each confirmed
walker is told who they walk with (first names, organisation, who leads, who did the course),
where they meet (with a map link when the area has coordinates) and what to bring
(``[walks] checklist``).

Derived in the tick like the reminders (``intro:signup:<id>``, expiring at the start): a second
tick, a restart or a second process adds nothing, and a walker who signs up after the moment
gets none (their confirmation carried the details). The group is read when the message is sent,
so it is the group as it is then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Area, Organisation, Person, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.messages.due_planning import plan, walkers_without
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage
from scheduling.walks.group_lead import group_lead
from scheduling.walks.my_group import first_name
from scheduling.walks.shifts import get_shift

LOOKBACK = timedelta(hours=24)
PREFIX = "intro:signup:"


@dataclass(frozen=True)
class Member:
    person_id: int
    first_name: str
    organisation: str | None
    trained: bool
    leads: bool


@dataclass(frozen=True)
class GroupIntro:
    members: list[Member]
    meeting_point: str | None
    latitude: float | None
    longitude: float | None


async def group_intros(ctx: Context, session: AsyncSession, now: datetime) -> list[NewMessage]:
    """A due rule: one intro per walker confirmed by the moment."""
    before = ctx.settings.reminders.group_intro_before
    rows = await walkers_without(
        session, PREFIX, starts_after=now - LOOKBACK, starts_until=now + before
    )
    return [
        plan(ctx, now, key=f"{PREFIX}{row.signup_id}", kind=Kind.GROUP_INTRO,
             person_id=row.person_id, moment=row.start_at - before, expires_at=row.start_at,
             shift_start=row.start_at,
             payload={"shift_id": row.shift_id, "signup_id": row.signup_id})
        for row in rows
        if row.confirmed_at is not None and row.confirmed_at <= row.start_at - before
    ]


async def group_intro(ctx: Context, shift_id: int) -> GroupIntro:
    """The group of a shift as it is now, and where it meets."""
    async with ctx.store.joined() as session:
        shift = await get_shift(session, shift_id)
        area = await session.get(Area, shift.area_id)
        lead = await group_lead(session, shift)
        result = await session.exec(
            select(Person.id, Person.name, Person.trained, Organisation.name)
            .join(Signup, col(Signup.person_id) == col(Person.id))
            .outerjoin(Organisation, col(Organisation.id) == col(Person.organisation_id))
            .where(col(Signup.shift_id) == shift_id, col(Signup.status) == SignupStatus.CONFIRMED,
                   col(Person.erased_at).is_(None))
            .order_by(col(Signup.queued_at), col(Signup.id))
        )
        members = [
            Member(pid or 0, first_name(name), org, trained,
                   lead is not None and lead.person_id == pid)
            for pid, name, trained, org in result.all()
        ]
    return GroupIntro(
        members=members,
        meeting_point=area.meeting_point if area is not None else None,
        latitude=area.latitude if area is not None else None,
        longitude=area.longitude if area is not None else None,
    )
