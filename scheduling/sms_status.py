"""SMS opt-out and opt-in, and delivery reports from Twilio's status callbacks.

A delivery status only ever moves forward (callbacks can arrive late or twice). A permanent
failure marks the number unreachable and tells the coordinators, so that nobody relies on a
message that never arrived.
"""

from __future__ import annotations

from sqlmodel import col, select

from models.tables import OutboxMessage, Person, Role
from scheduling.context import Context
from scheduling.outbox import enqueue

# Twilio's message statuses in the order they happen; the last three are final.
STATUS_ORDER = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "receiving": 3,
    "received": 4,
    "delivered": 5,
    "read": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
}
FAILED = frozenset({"undelivered", "failed"})
FINAL = FAILED | {"delivered", "read", "canceled"}


async def set_opt_out(ctx: Context, phone: str, opted_out: bool) -> Person | None:
    """Record STOP/STOPP (or START) from a number; the dispatcher honours it."""
    async with ctx.store.transaction() as session:
        person = (await session.exec(select(Person).where(col(Person.phone) == phone))).first()
        if person is None:
            return None
        person.sms_opted_out = opted_out
        if not opted_out:
            person.sms_unreachable = False
        session.add(person)
        return person


async def record_delivery(
    ctx: Context, message_sid: str, status: str, permanent_failure: bool
) -> bool:
    """Apply a status callback; False when the message is unknown or the status is old news."""
    status = status.lower()
    if status not in STATUS_ORDER:
        return False
    now = ctx.now()
    async with ctx.store.transaction() as session:
        message = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.provider_message_id) == message_sid)
            )
        ).first()
        if message is None:
            return False
        current = STATUS_ORDER.get(message.delivery_status or "", -1)
        if (
            STATUS_ORDER[status] <= current
            and message.delivery_status in FAILED | {"delivered", "read"}
        ) or STATUS_ORDER[status] < current:
            return False
        message.delivery_status = status
        session.add(message)
        if status in FAILED and permanent_failure and message.person_id is not None:
            person = await session.get(Person, message.person_id)
            if person is not None and not person.sms_unreachable:
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
                    if coordinator_id is None:
                        continue
                    await enqueue(
                        session,
                        key=f"sms_unreachable:person:{person.id}:to:{coordinator_id}:{message.id}",
                        kind="sms_unreachable",
                        person_id=coordinator_id,
                        due_at=now,
                        now=now,
                        payload={"person_id": person.id, "name": person.name},
                    )
        return True
