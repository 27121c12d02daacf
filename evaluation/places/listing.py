"""The list of places: area, spot, kind, first and last seen, how many reports, status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Area, Place, PlaceReport, PlaceStatus, Report, Shift
from scheduling.common.context import Context
from scheduling.common.errors import InvalidInput
from scheduling.people.access import Actor
from scheduling.people.scope import organisation_scope


@dataclass(frozen=True)
class PlaceItem:
    """One place as the coordinator sees it; ``kind`` and ``status`` are codes the caller
    labels (coordinator.place.<kind>, coordinator.place_status.<status>)."""

    id: int
    area: str
    spot: str
    kind: str
    status: str
    reports: int
    first_seen_at: datetime
    last_seen_at: datetime
    created_at: datetime
    status_at: datetime | None
    status_by: str | None


def _item(place: Place, area: str) -> PlaceItem:
    return PlaceItem(
        id=place.id or 0,
        area=area,
        spot=place.spot,
        kind=place.kind,
        status=place.status,
        reports=place.reports,
        first_seen_at=place.first_seen_at,
        last_seen_at=place.last_seen_at,
        created_at=place.created_at,
        status_at=place.status_at,
        status_by=place.status_by,
    )


async def place_items(
    session: AsyncSession,
    *,
    status: str | None = None,
    seen_from: datetime | None = None,
    seen_before: datetime | None = None,
    organisation_id: int | None = None,
) -> list[PlaceItem]:
    """Places, open ones first, then by last seen (newest first); filtered when asked (with
    ``organisation_id``, those named in reports of that organisation's walks)."""
    query = select(Place, Area.name).join(Area, col(Area.id) == col(Place.area_id))
    if organisation_id is not None:
        query = query.where(col(Place.id).in_(_named_by(organisation_id)))
    if status is not None:
        query = query.where(col(Place.status) == status)
    if seen_from is not None:
        query = query.where(col(Place.last_seen_at) >= seen_from)
    if seen_before is not None:
        query = query.where(col(Place.first_seen_at) < seen_before)
    still_open = case((col(Place.status).in_(PlaceStatus.STILL_OPEN), 0), else_=1)
    query = query.order_by(still_open, col(Place.last_seen_at).desc(), col(Place.id).desc())
    rows = (await session.exec(query)).all()
    return [_item(place, area) for place, area in rows]


def _named_by(organisation_id: int) -> Any:
    return (
        select(PlaceReport.place_id)
        .join(Report, col(Report.id) == col(PlaceReport.report_id))
        .join(Shift, col(Shift.id) == col(Report.shift_id))
        .where(col(Shift.organisation_id) == organisation_id)
    )


async def list_places(ctx: Context, actor: Actor, status: str | None = None) -> list[PlaceItem]:
    """Every place (or those of one status) for a coordinator; for a lead, those their own
    organisation's walkers reported; anyone else is refused."""
    organisation_id = await organisation_scope(ctx, actor, "places.view")
    if status is not None and status not in PlaceStatus.ALL:
        raise InvalidInput("bad_place_status", status=status[:20])
    async with ctx.store.joined() as session:
        return await place_items(session, status=status, organisation_id=organisation_id)
