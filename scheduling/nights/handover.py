"""Handing a night on: the holder gives it back, its shift is cancelled (any way: chat, the
dashboard, ``shifts cancel``, "Ställ in" at the final check), or it is short of walkers at the
final check. Both are due rules of the tick, derived from the store, so a restart or a second
worker never loses or repeats one.

A night whose shift was cancelled is open again (``handed_on`` counts it): the reserves' leads
are offered it ("Ta natten"), every other lead is told. A held night whose final staffing
check fired (``final_check:shift:<id>``) is offered to its reserves: one of them may take the
shift over as it is (``claims.claim_night``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.night_tables import Night, NightStatus
from models.tables import Area, Organisation, Shift, ShiftStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.due_planning import fired
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.nights.audience import facts, leads, reserves, tell
from scheduling.nights.holding import get_night
from scheduling.people.access import Actor, require_manager
from scheduling.walks.shifts import cancel_shift


async def give_back(ctx: Context, actor: Actor, night_id: int) -> None:
    """The holder's lead (or the coordinator) gives the night back: its shift is cancelled
    (everyone signed up is told) and the next tick hands the night on."""
    async with ctx.store.transaction() as session:
        night = await get_night(session, night_id)
    if night.holder_id is None or night.shift_id is None:
        raise DomainError("night_not_held", night=night_id)
    await require_manager(ctx.store, actor, "nights.give_back", night.holder_id, ctx.now(),
                          target=f"night:{night_id}")
    await cancel_shift(ctx, actor, night.shift_id, reason=None)
    async with ctx.store.transaction() as session:
        await reopen_cancelled(ctx, session, ctx.now(), only=night_id)


async def handed_on_nights(ctx: Context, session: AsyncSession, now: datetime) -> list[NewMessage]:
    """The due rule: held nights whose shift was cancelled are open again; who is told."""
    return await reopen_cancelled(ctx, session, now)


async def reopen_cancelled(ctx: Context, session: AsyncSession, now: datetime,
                           only: int | None = None) -> list[NewMessage]:
    """Open again the held nights whose shift was cancelled (``only`` one: and queue the
    messages at once, as the tick would)."""
    query = (
        select(Night, Shift.organisation_id)
        .join(Shift, col(Shift.id) == col(Night.shift_id))
        .where(col(Night.status) == NightStatus.HELD, col(Shift.status) == ShiftStatus.CANCELLED,
               col(Night.start_at) > now)
    )
    if only is not None:
        query = query.where(col(Night.id) == only)
    messages: list[NewMessage] = []
    for night, holder in (await session.exec(query)).all():
        result = await session.exec(
            update(Night)
            .where(col(Night.id) == night.id, col(Night.handed_on) == night.handed_on)
            .values(status=NightStatus.OPEN, holder_id=None, shift_id=None, offered_at=None,
                    handed_on=night.handed_on + 1)
        )
        if result.rowcount == 1:
            await session.refresh(night)
            messages += await _offers(ctx, session, night, holder, now, Kind.NIGHT_HANDED_ON)
    if only is not None and messages:
        await enqueue_many(session, messages, now)
    return messages


async def reserve_offers(ctx: Context, session: AsyncSession, now: datetime) -> list[NewMessage]:
    """The due rule: a held night short of walkers at its final check is offered to its
    reserves (once: ``offered_at``)."""
    window = ctx.settings.reminders.staffing_final_check_before
    rows = await session.exec(
        select(Night).where(
            col(Night.status) == NightStatus.HELD, col(Night.offered_at).is_(None),
            col(Night.start_at) > now, col(Night.start_at) <= now + window,
        )
    )
    nights = [n for n in rows.all() if n.shift_id is not None]
    done = await fired(session, [f"final_check:shift:{n.shift_id}" for n in nights])
    messages: list[NewMessage] = []
    for night in nights:
        if f"final_check:shift:{night.shift_id}" not in done:
            continue
        night.offered_at = now
        session.add(night)
        messages += await _offers(ctx, session, night, night.holder_id, now, None)
    return messages


async def _offers(ctx: Context, session: AsyncSession, night: Night, holder: int | None,
                  now: datetime, others: str | None) -> list[NewMessage]:
    """NIGHT_OFFERED to the reserves' leads; ``others`` (a kind) to every other lead."""
    area = await session.get(Area, night.area_id)
    org = await session.get(Organisation, holder) if holder else None
    payload = facts(night, area.name if area else "?", organisation=org.name if org else None,
                    short=night.holder_id is not None)
    standing = [o for o in await reserves(session, night.id or 0) if o != holder]
    offered = await leads(session, standing) if standing else []
    key = f"night:{night.id}:offer:{night.handed_on}"
    messages = tell(ctx, now, key, Kind.NIGHT_OFFERED, offered, payload, night)
    if others is not None:
        rest = [p for p in await leads(session) if p not in offered]
        messages += tell(ctx, now, f"night:{night.id}:handed:{night.handed_on}", others, rest,
                         payload, night)
    return messages
