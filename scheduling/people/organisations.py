"""Organisations and walk areas: creating, finding and listing them."""

from __future__ import annotations

import math
from typing import TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Area, Organisation
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput, NotFound
from scheduling.common.text import clean_text, name_key, small_number
from scheduling.people.access import Actor, audit, require_coordinator

_Named = TypeVar("_Named", Organisation, Area)


async def find_organisation(session: AsyncSession, ref: str | int) -> Organisation:
    """An organisation by numeric id or by name (case-insensitive)."""
    return await _find(session, Organisation, ref, "organisation")


async def find_area(session: AsyncSession, ref: str | int) -> Area:
    """An area by numeric id or by name (case-insensitive)."""
    return await _find(session, Area, ref, "area")


async def _find(session: AsyncSession, table: type[_Named], ref: str | int, kind: str) -> _Named:
    text = str(ref).strip()
    found: _Named | None = None
    number = small_number(text)
    if number is not None:
        found = await session.get(table, number)
    if found is None:
        result = await session.exec(select(table).where(col(table.name_key) == name_key(text)))
        found = result.first()
    if found is None:
        raise NotFound(kind, text)
    return found


async def add_organisation(ctx: Context, actor: Actor, name: str) -> Organisation:
    """Create an organisation (coordinator only); names are unique regardless of case."""
    await require_coordinator(ctx.store, actor, "orgs.add", ctx.now())
    clean = clean_text(name, field="name", max_length=120)
    async with ctx.store.transaction() as session:
        await _refuse_duplicate(session, Organisation, clean, "organisation")
        org = Organisation(name=clean, name_key=name_key(clean), created_at=ctx.now())
        session.add(org)
        await session.flush()
        audit(session, actor, "orgs.add", ctx.now(), target=f"organisation:{org.id}")
    return org


async def add_area(
    ctx: Context, actor: Actor, name: str, meeting_point: str | None = None,
    latitude: float | None = None, longitude: float | None = None,
) -> Area:
    """Create a walk area with its meeting point and, optionally, the meeting point's
    coordinates (both or neither; for the map link in the group intro). Coordinator only."""
    await require_coordinator(ctx.store, actor, "areas.add", ctx.now())
    check_coordinates(latitude, longitude)
    clean = clean_text(name, field="name", max_length=120)
    point = (
        clean_text(meeting_point, field="meeting_point", max_length=200) if meeting_point else None
    )
    async with ctx.store.transaction() as session:
        await _refuse_duplicate(session, Area, clean, "area")
        area = Area(name=clean, name_key=name_key(clean), meeting_point=point, created_at=ctx.now(),
                    latitude=latitude, longitude=longitude)
        session.add(area)
        await session.flush()
        audit(session, actor, "areas.add", ctx.now(), target=f"area:{area.id}")
    return area


def check_coordinates(latitude: float | None, longitude: float | None) -> None:
    """Both or neither, latitude -90..90 and longitude -180..180 (Kalmar: 56.66, 16.36)."""
    if (latitude is None) != (longitude is None):
        raise InvalidInput("coordinates_pair")
    if latitude is None or longitude is None:
        return
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise InvalidInput("bad_latitude", value=latitude)
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise InvalidInput("bad_longitude", value=longitude)


async def _refuse_duplicate(
    session: AsyncSession, table: type[Organisation] | type[Area], name: str, kind: str
) -> None:
    existing = await session.exec(select(table).where(col(table.name_key) == name_key(name)))
    if existing.first() is not None:
        raise DomainError(f"{kind}_exists", name=name)


async def list_organisations(ctx: Context) -> list[Organisation]:
    async with ctx.store.transaction() as session:
        return list((await session.exec(select(Organisation).order_by(col(Organisation.id)))).all())


async def list_areas(ctx: Context) -> list[Area]:
    async with ctx.store.transaction() as session:
        return list((await session.exec(select(Area).order_by(col(Area.id)))).all())
