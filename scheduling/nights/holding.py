"""Taking a night: the one guarded step that makes an organisation its holder.

``take`` is a conditional UPDATE: it names the holder it expects (none for an open night, the
old holder for a take-over) and the night's ``handed_on`` count, so of two leads taking the
night at once exactly one changes the row; the other finds it changed and is refused
(``night_taken``). On SQLite writers are serialised anyway (``BEGIN IMMEDIATE``); on
PostgreSQL the second UPDATE waits for the first's row lock and then matches nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.night_tables import Night, NightStatus
from models.tables import Area, Organisation, Shift
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, NotFound
from scheduling.messages.outbox import enqueue_many
from scheduling.nights.audience import facts, leads, tell


async def get_night(session: AsyncSession, night_id: int) -> Night:
    night = await session.get(Night, night_id, populate_existing=True)
    if night is None:
        raise NotFound("night", night_id)
    return night


async def take(session: AsyncSession, night: Night, organisation_id: int,
               handing_on: bool = False) -> None:
    """Make the organisation the holder, if the night is still as it was read (else
    ``night_taken``); ``night`` is read afresh after."""
    expected = (
        col(Night.holder_id).is_(None)
        if night.holder_id is None
        else col(Night.holder_id) == night.holder_id
    )
    result = await session.exec(
        update(Night)
        .where(col(Night.id) == night.id, expected, col(Night.handed_on) == night.handed_on)
        .values(holder_id=organisation_id, status=NightStatus.HELD, offered_at=None,
                handed_on=night.handed_on + int(handing_on))
    )
    if result.rowcount != 1:
        raise DomainError("night_taken", night=night.id)
    await session.refresh(night)


async def new_shift(session: AsyncSession, night: Night, organisation_id: int,
                    now: datetime) -> Shift:
    """The organisation's shift for the night: a real shift, so reminders, sign-ups and
    calendars treat it like any other."""
    shift = Shift(organisation_id=organisation_id, area_id=night.area_id,
                  start_at=night.start_at, end_at=night.end_at, min_walkers=night.min_walkers,
                  max_walkers=night.max_walkers, created_at=now)
    session.add(shift)
    await session.flush()
    await session.exec(
        update(Night).where(col(Night.id) == night.id).values(shift_id=shift.id)
    )
    await session.refresh(night)
    return shift


async def announce(ctx: Context, session: AsyncSession, night: Night, kind: str,
                   organisation_id: int | None, now: datetime, **more: object) -> None:
    """Tell every lead what became of the night (allocated, handed on)."""
    area = await session.get(Area, night.area_id)
    org = await session.get(Organisation, organisation_id) if organisation_id else None
    payload = facts(night, area.name if area else "?", organisation=org.name if org else None,
                    **more)
    key = f"night:{night.id}:{kind}:{night.handed_on}:{organisation_id or 0}"
    await enqueue_many(session, tell(ctx, now, key, kind, await leads(session), payload, night),
                       now)


