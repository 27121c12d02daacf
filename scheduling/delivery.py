"""Delivery reports from providers (Twilio status callbacks): a status only moves forward."""

from __future__ import annotations

from sqlmodel import col, select

from models.tables import OutboxMessage
from scheduling.context import Context

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


def moves_forward(current: str | None, new: str) -> bool:
    """True when ``new`` comes after ``current`` (an unknown status never overwrites)."""
    if new not in RANK:
        return False
    return current is None or RANK[new] > RANK.get(current, -1)


async def record_delivery_status(ctx: Context, provider_message_id: str, status: str) -> bool:
    """Record a provider's report on a sent message; True when the row changed."""
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
        return True
