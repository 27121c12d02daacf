"""Giving a person their phone number, and merging them with an operator-made record of it.

It lives with the walks because a merge moves sign-ups and may pass a seat to the waitlist.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import (
    Alarm,
    Broadcast,
    CalendarToken,
    ConfirmationCode,
    Conversation,
    DashboardLogin,
    DashboardSession,
    OutboxMessage,
    Person,
    Report,
    SafetyAlert,
    SharedNumber,
    Shift,
    Signup,
    SignupStatus,
)
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.people.access import Actor, audit
from scheduling.people.directory import get_person
from scheduling.walks.shifts import get_shift
from scheduling.walks.waitlist import promote_waitlisted

# which of two sign-ups to the same shift is kept: a seat beats a waitlist place beats nothing
_SIGNUP_RANK = {"confirmed": 3, "offered": 2, "waitlisted": 1, "cancelled": 0}
_SIGNUP_STATE = (
    "status",
    "queued_at",
    "confirmed_at",
    "offer_expires_at",
    "cancelled_at",
    "checked_in_at",
    "checked_out_at",
    "no_show",
)


async def link_phone(ctx: Context, person_id: int, phone: str) -> Person:
    """Give a person their phone number. When an operator already added someone with that number
    (and no Telegram id), the two are one person: the earlier record gets the Telegram id and
    this one's sign-ups, and this one is removed."""
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        if person.phone == phone:
            return person
        other = (await session.exec(select(Person).where(col(Person.phone) == phone))).first()
        if other is None:
            person.phone = phone
            session.add(person)
            return person
        if other.telegram_id is not None or other.erased_at is not None:
            raise DomainError("phone_taken", phone=phone)
        await _merge(session, ctx, person, other)
        audit(
            session,
            Actor.of(other, "telegram"),
            "people.link_phone",
            ctx.now(),
            target=f"person:{other.id}",
            merged=person_id,
        )
        return other


async def _merge(session: AsyncSession, ctx: Context, person: Person, other: Person) -> None:
    """``person`` (who came by Telegram) becomes ``other`` (added with the phone), and goes."""
    telegram_id, person.telegram_id = person.telegram_id, None
    session.add(person)
    await session.flush()  # free the unique Telegram id before the other record takes it
    other.telegram_id = telegram_id
    other.consent_at = other.consent_at or person.consent_at
    other.age_confirmed_at = other.age_confirmed_at or person.age_confirmed_at
    other.organisation_id = other.organisation_id or person.organisation_id
    other.language = person.language
    freed = await _merge_signups(session, person.id or 0, other.id or 0)
    other.no_show_count = await _no_shows(session, other.id or 0)  # follows the moved flags
    await _move_references(session, person.id or 0, other.id or 0)
    await _merge_reports(session, person.id or 0, other.id or 0)
    await session.flush()
    session.add(other)
    await session.delete(person)
    await session.flush()
    for shift_id in freed:
        await promote_waitlisted(
            session, ctx, await get_shift(session, shift_id, lock=True), ctx.now()
        )


# every other column that points at a person, moved as it is
_REFERENCES = (
    (Conversation, "person_id"),
    (OutboxMessage, "person_id"),
    (CalendarToken, "person_id"),
    (DashboardLogin, "person_id"),
    (DashboardSession, "person_id"),
    (ConfirmationCode, "person_id"),
    (Broadcast, "author_id"),
    (SafetyAlert, "acknowledged_by"),
    (Alarm, "person_id"),
    (Alarm, "acknowledged_by"),
    (Shift, "group_lead_id"),
    (SharedNumber, "person_id"),
)


async def _move_references(session: AsyncSession, from_id: int, into_id: int) -> None:
    """Point every row that names the merged-away person at the person who stays."""
    for table, column in _REFERENCES:
        attribute = getattr(table, column)
        await session.exec(
            update(table).where(col(attribute) == from_id).values({column: into_id})
        )


async def _merge_signups(session: AsyncSession, from_id: int, into_id: int) -> list[int]:
    """Move one person's sign-ups to another; where both have one for a shift, the stronger
    (a seat beats a waitlist place beats a cancellation) is kept. Returns the shifts where a
    seat was given up, for the waitlist to move."""
    kept = {s.shift_id: s for s in await _signups_of(session, into_id)}
    freed: list[int] = []
    for signup in await _signups_of(session, from_id):
        existing = kept.get(signup.shift_id)
        if existing is None:
            signup.person_id = into_id
            session.add(signup)
            continue
        stronger, weaker = (
            (signup, existing)
            if _SIGNUP_RANK[signup.status] > _SIGNUP_RANK[existing.status]
            else (existing, signup)
        )
        if weaker.status in SignupStatus.HOLDS_SEAT:
            freed.append(signup.shift_id)
        for name in _SIGNUP_STATE:
            setattr(existing, name, getattr(stronger, name))
        session.add(existing)
        await session.delete(signup)
    await session.flush()
    return freed


async def _no_shows(session: AsyncSession, person_id: int) -> int:
    """The person's sign-ups marked absent: what ``Person.no_show_count`` counts."""
    return sum(s.no_show for s in await _signups_of(session, person_id))


async def _signups_of(session: AsyncSession, person_id: int) -> list[Signup]:
    statement = select(Signup).where(col(Signup.person_id) == person_id)
    return list((await session.exec(statement)).all())


async def _merge_reports(session: AsyncSession, from_id: int, into_id: int) -> None:
    """Move reports; where both wrote one for the same shift, the one already kept stays."""
    kept = set(
        (await session.exec(select(Report.shift_id).where(col(Report.person_id) == into_id))).all()
    )
    for report in (
        await session.exec(select(Report).where(col(Report.person_id) == from_id))
    ).all():
        if report.shift_id in kept:
            await session.delete(report)
        else:
            report.person_id = into_id
            session.add(report)
