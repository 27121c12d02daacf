"""Delivery reports: matched by the provider's id, and a status only moves forward."""

from __future__ import annotations

from sqlalchemy import update

from models.tables import OutboxMessage
from scheduling.common.context import Context
from scheduling.messages.delivery_status import moves_forward, record_delivery_status
from scheduling.messages.outbox import NewMessage, enqueue_many
from tests.world import outbox, person


async def test_delivered_then_a_late_sent_report_changes_nothing(ctx: Context) -> None:
    """queued -> delivered is recorded; a late "sent" or an unknown sid is ignored."""
    walker = await person(ctx, "Anna", phone="0701234567")
    async with ctx.store.transaction() as session:
        await enqueue_many(
            session,
            [NewMessage(key="k", kind="broadcast", person_id=walker.id or 0, due_at=ctx.now())],
            ctx.now(),
        )
        await session.exec(
            update(OutboxMessage).values(
                status="sent", provider_message_id="SM1", delivery_status="queued"
            )
        )
    assert await record_delivery_status(ctx, "SM1", "delivered")
    assert not await record_delivery_status(ctx, "SM1", "sent")
    assert not await record_delivery_status(ctx, "SM-unknown", "delivered")
    assert [m.delivery_status for m in await outbox(ctx)] == ["delivered"]


def test_order_of_statuses() -> None:
    """sending < sent < delivered; an unknown status never overwrites."""
    assert moves_forward(None, "queued") and moves_forward("sending", "sent")
    assert not moves_forward("failed", "sent") and not moves_forward("sent", "bogus")
