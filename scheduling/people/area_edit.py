"""Changing a walk area's meeting point and its coordinates (for the group intro's map link).

Coordinator only (a refusal is audited); the change is audited with the old and new values.
"""

from __future__ import annotations

from sqlmodel import col, select

from models.tables import Area
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.common.text import clean_text
from scheduling.people.access import Actor, audit, require_coordinator
from scheduling.people.organisations import check_coordinates


async def update_area(
    ctx: Context, actor: Actor, area_id: int, meeting_point: str | None,
    latitude: float | None, longitude: float | None,
) -> Area:
    """Set the area's meeting point (None clears it) and coordinates (both or neither)."""
    now = ctx.now()
    await require_coordinator(ctx.store, actor, "areas.update", now, target=f"area:{area_id}")
    check_coordinates(latitude, longitude)
    point = (
        clean_text(meeting_point, field="meeting_point", max_length=200) if meeting_point else None
    )
    async with ctx.store.transaction() as session:
        query = select(Area).where(col(Area.id) == area_id).with_for_update()
        area = (await session.exec(query)).first()
        if area is None:
            raise NotFound("area", area_id)
        before = [area.meeting_point, area.latitude, area.longitude]
        area.meeting_point, area.latitude, area.longitude = point, latitude, longitude
        session.add(area)
        audit(session, actor, "areas.update", now, target=f"area:{area_id}",
              previous=before, meeting_point=point, latitude=latitude, longitude=longitude)
        return area
