"""A person's own data: erasure (pseudonymising reports) and audited access to contacts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import (
    Conversation,
    OutboxMessage,
    OutboxStatus,
    Report,
    SharedNumber,
    Shift,
    Signup,
    SignupStatus,
)
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.people.access import Actor, audit, refuse, require_coordinator
from scheduling.people.directory import get_person
from scheduling.people.traces import ERASED_NAME, forget_traces
from scheduling.walks.shifts import get_shift
from scheduling.walks.waitlist import promote_waitlisted


async def erase_person(ctx: Context, actor: Actor, person_id: int) -> None:
    """Delete a person's personal data; their past walks and reports stay, without the name.

    The person themselves or a coordinator may do it; by SMS only when confirmed with a
    one-time code (``Actor.trusted``). Seats on future shifts are freed (and passed on to the
    waitlist); messages not yet sent to them are dropped. Their alarms and the messages to
    others that name them are scrubbed too (``traces.py``; an alarm still open keeps reaching
    people and is scrubbed by the retention run once it is over).
    """
    now = ctx.now()
    if not actor.trusted:
        raise await refuse(ctx.store, actor, "people.remove", now, target=f"person:{person_id}")
    if actor.person_id != person_id:
        await require_coordinator(
            ctx.store, actor, "people.remove", now, target=f"person:{person_id}"
        )
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        if person.erased_at is not None:
            raise NotFound("person", person_id)
        await _give_up_future_places(session, ctx, person_id, now)
        await forget_traces(session, person)
        await _drop_what_is_about_them(session, person_id)
        person.name = ERASED_NAME
        person.phone = None
        person.telegram_id = None
        person.consent_at = None
        person.age_confirmed_at = None
        person.last_active_at = None
        person.waiting_shift_id = None
        person.erased_at = now
        session.add(person)
        audit(session, actor, "people.remove", now, target=f"person:{person_id}")


async def _give_up_future_places(
    session: AsyncSession, ctx: Context, person_id: int, now: datetime
) -> None:
    """Cancel the person's sign-ups to shifts not yet started; freed seats go to the waitlist."""
    future = await session.exec(
        select(Signup)
        .join(Shift, col(Shift.id) == col(Signup.shift_id))
        .where(
            col(Signup.person_id) == person_id,
            col(Shift.start_at) > now,
            col(Signup.status) != SignupStatus.CANCELLED,
        )
    )
    freed_shifts = []
    for signup in future.all():
        if signup.status in SignupStatus.HOLDS_SEAT:
            freed_shifts.append(signup.shift_id)
        signup.status = SignupStatus.CANCELLED
        signup.cancelled_at = now
        session.add(signup)
    await session.flush()
    for shift_id in freed_shifts:
        await promote_waitlisted(session, ctx, await get_shift(session, shift_id, lock=True), now)


async def _drop_what_is_about_them(session: AsyncSession, person_id: int) -> None:
    """Their reports stay without their name; conversations and unsent messages go."""
    await session.exec(
        update(Report).where(col(Report.person_id) == person_id).values(person_id=None)
    )
    await session.exec(delete(Conversation).where(col(Conversation.person_id) == person_id))
    await session.exec(delete(SharedNumber).where(col(SharedNumber.person_id) == person_id))
    await session.exec(
        delete(OutboxMessage).where(
            col(OutboxMessage.person_id) == person_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
    )


async def audit_contacts_viewed(ctx: Context, actor: Actor, count: int) -> None:
    """Record that contact details were shown (they are personal data)."""
    async with ctx.store.transaction() as session:
        audit(session, actor, "people.contacts_viewed", ctx.now(), count=count)
