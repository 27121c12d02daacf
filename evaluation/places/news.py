"""New places for the morning picture: what walkers flagged for the first time in a window.

``new_places_between(ctx, start_utc, end_utc)`` returns the places first recorded (the first
report naming them submitted) in ``[start_utc, end_utc)``, so consecutive windows name each
place once. Each item carries codes and their catalogue keys, ready to be put in words in the
reader's language: ``t(lang, item.kind_key)`` ("trasig belysning"), ``item.area``, ``item.spot``.
No personal data: a place never names who reported it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models.tables import Area, Place
from scheduling.common.context import Context


@dataclass(frozen=True)
class NewPlace:
    id: int
    area: str
    spot: str
    kind: str
    kind_key: str  # coordinator.place.<kind>
    reports: int
    first_seen_at: datetime


async def new_places_between(ctx: Context, start: datetime, end: datetime) -> list[NewPlace]:
    """Places first recorded in ``[start, end)`` (aware UTC), oldest first. ``ctx`` may be
    the reader's context (evaluation/off_loop.py) or the main one; no permission check: the
    caller decides who hears of them."""
    query = (
        select(Place, Area.name)
        .join(Area, col(Area.id) == col(Place.area_id))
        .where(col(Place.created_at) >= start, col(Place.created_at) < end)
        .order_by(col(Place.created_at), col(Place.id))
    )
    async with ctx.store.joined() as session:
        rows = (await session.exec(query)).all()
    return [
        NewPlace(
            id=place.id or 0,
            area=area,
            spot=place.spot,
            kind=place.kind,
            kind_key=f"coordinator.place.{place.kind}",
            reports=place.reports,
            first_seen_at=place.first_seen_at,
        )
        for place, area in rows
    ]
