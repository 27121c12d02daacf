"""The coordinator marks a place: reported to the kommun's fault reporting, fixed, dismissed.

``reported`` keeps the place open for merging (walkers who see it again still count on it);
``fixed`` and ``dismissed`` close it, so a later report of the same spot makes a new place.
A closed place stays closed. Every mark is audited.
"""

from __future__ import annotations

from sqlmodel import col, select

from models.tables import Place, PlaceStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput, NotFound
from scheduling.people.access import Actor, audit, require_coordinator

MARKS = (PlaceStatus.REPORTED, PlaceStatus.FIXED, PlaceStatus.DISMISSED)


async def mark_place(ctx: Context, actor: Actor, place_id: int, status: str) -> Place:
    """Set a place's status (a coordinator only); marking it again as it is changes nothing."""
    if status not in MARKS:
        raise InvalidInput("bad_place_status", status=str(status)[:20])
    now = ctx.now()
    await require_coordinator(ctx.store, actor, "places.mark", now, target=f"place:{place_id}")
    async with ctx.store.transaction() as session:
        query = select(Place).where(col(Place.id) == place_id).with_for_update()
        place = (await session.exec(query)).first()
        if place is None:
            raise NotFound("place", place_id)
        if place.status == status:
            return place
        if place.status not in PlaceStatus.STILL_OPEN:
            raise DomainError("place_closed", id=place_id)
        previous = place.status
        place.status = status
        place.status_at = now
        place.status_by = actor.label
        if status not in PlaceStatus.STILL_OPEN:
            place.open_key = None
        session.add(place)
        audit(session, actor, "places.mark", now, target=f"place:{place_id}",
              status=status, previous=previous)
        return place
