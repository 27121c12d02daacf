"""Who hears about nights: every lead; a reserve organisation's leads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.night_tables import Night, NightClaim
from models.tables import Person, Role
from scheduling.common.context import Context
from scheduling.messages.due_planning import plan
from scheduling.messages.outbox import NewMessage


async def leads(session: AsyncSession, organisation_ids: list[int] | None = None) -> list[int]:
    """The leads (of the organisations given, else of all), who have not been erased."""
    query = select(Person.id).where(col(Person.erased_at).is_(None), col(Person.role) == Role.LEAD)
    if organisation_ids is not None:
        query = query.where(col(Person.organisation_id).in_(organisation_ids))
    rows = await session.exec(query.order_by(col(Person.id)))
    return [i for i in rows.all() if i is not None]


async def reserves(session: AsyncSession, night_id: int) -> list[int]:
    """The organisations standing as reserve for a night, in the order they offered."""
    rows = await session.exec(
        select(NightClaim.organisation_id)
        .where(col(NightClaim.night_id) == night_id, col(NightClaim.kind) == "reserve")
        .order_by(col(NightClaim.created_at), col(NightClaim.id))
    )
    return list(rows.all())


def facts(night: Night, area: str, **more: Any) -> dict[str, Any]:
    """What a message about a night carries: it is rendered without reading the night again."""
    return {
        "night_id": night.id,
        "area": area,
        "start": night.start_at.isoformat(),
        "end": night.end_at.isoformat(),
        **more,
    }


def tell(ctx: Context, now: datetime, key: str, kind: str, people: list[int],
         payload: dict[str, Any], night: Night) -> list[NewMessage]:
    """A notice about a night to each of ``people`` (held through quiet hours while it can
    wait; it expires when the night starts)."""
    return [
        plan(ctx, now, key=f"{key}:to:{person_id}", kind=kind, person_id=person_id, moment=now,
             expires_at=night.start_at, shift_start=night.start_at, payload=payload)
        for person_id in people
    ]
