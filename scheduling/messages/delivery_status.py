"""Delivery status from providers (Twilio status callbacks): a status only moves forward."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import OutboxMessage, Person, Role
from scheduling.common.context import Context
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue

# Twilio's message statuses in the order they happen; the final ones share the last rank.
RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}


FAILED = frozenset({"undelivered", "failed"})


def moves_forward(current: str | None, new: str) -> bool:
    """True when ``new`` comes after ``current`` (an unknown status never overwrites)."""
    if new not in RANK:
        return False
    return current is None or RANK[new] > RANK.get(current, -1)


async def record_delivery_status(
    ctx: Context, provider_message_id: str, status: str, permanent_failure: bool = False
) -> bool:
    """Record a provider's report on a sent message; True when the row changed.

    A permanent failure (a number that does not exist, a landline, ...) marks the person
    unreachable by SMS and tells the coordinators, so nobody relies on messages that never
    arrive.
    """
    status = status.lower()
    now = ctx.now()
    async with ctx.store.transaction() as session:
        message = (
            await session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.provider_message_id) == provider_message_id)
                .with_for_update()
            )
        ).first()
        if message is None or not moves_forward(message.delivery_status, status):
            return False
        message.delivery_status = status
        session.add(message)
        if status in FAILED and permanent_failure and message.person_id is not None:
            await _mark_sms_unreachable(session, message, now)
        return True


async def _mark_sms_unreachable(
    session: AsyncSession, message: OutboxMessage, now: datetime
) -> None:
    person = await session.get(Person, message.person_id)
    if person is None or person.sms_unreachable:
        return
    person.sms_unreachable = True
    session.add(person)
    coordinators = (
        await session.exec(
            select(Person.id).where(
                col(Person.role) == Role.COORDINATOR, col(Person.erased_at).is_(None)
            )
        )
    ).all()
    for coordinator_id in coordinators:
        if coordinator_id is not None:
            await enqueue(
                session,
                key=f"sms_unreachable:person:{person.id}:to:{coordinator_id}",
                kind=Kind.SMS_UNREACHABLE,
                person_id=coordinator_id,
                due_at=now,
                now=now,
                payload={"person_id": person.id, "name": person.name},
            )
