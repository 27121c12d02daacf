"""Inbound de-duplication: Telegram retries webhooks, Twilio retries SMS webhooks."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from models.tables import InboundReceipt
from scheduling.common.context import Context


async def first_time(ctx: Context, channel: str, external_id: str) -> bool:
    """Record an inbound id; True the first time it is seen, False for a repeat.

    Inside a unit the receipt commits with the unit (and is gone again if the unit fails)."""
    async with ctx.store.joined() as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(InboundReceipt)
            .values(channel=channel, external_id=external_id[:80], received_at=ctx.now())
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
            .returning(col(InboundReceipt.id))
        )
        result = await session.exec(statement)
        return result.first() is not None  # rowcount is not reliable here on every driver
