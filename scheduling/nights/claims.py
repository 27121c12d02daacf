"""Leads claim nights for their organisation, or stand as reserve; the coordinator allocates.

``[nights] allocation``: "first_come" gives an open night to the first lead who takes it;
"coordinator" records the claim and the coordinator allocates among them. A reserve takes a
night over at once when it is free again after being handed on, or while its holder is short
of walkers at the final check (``handover``). Every step is audited; every lead is told when a
night is allocated or handed on.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.night_tables import ClaimKind, Night, NightClaim, NightStatus
from models.tables import Shift
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.kinds import Kind
from scheduling.nights import holding
from scheduling.nights.audience import reserves
from scheduling.people.access import Actor, audit, require_coordinator, require_manager
from scheduling.people.organisations import find_organisation


async def organisation_of(ctx: Context, actor: Actor, organisation: str | int | None) -> int:
    """The organisation acted for: a lead's own; a coordinator must name one."""
    if organisation is None:
        if actor.organisation_id is None:
            raise DomainError("night_needs_organisation")
        return actor.organisation_id
    async with ctx.store.transaction() as session:
        return (await find_organisation(session, organisation)).id or 0


async def claim_night(ctx: Context, actor: Actor, night_id: int,
                      organisation: str | int | None = None) -> str:
    """"Ta natten": ``taken`` (the organisation holds it and has its shift), ``applied`` (the
    coordinator allocates) or ``taken_over`` (a reserve took it from a holder short of
    walkers)."""
    org = await organisation_of(ctx, actor, organisation)
    now = ctx.now()
    await require_manager(ctx.store, actor, "nights.claim", org, now, target=f"night:{night_id}")
    async with ctx.store.transaction() as session:
        night = await _open_for(session, night_id, org, now)
        reserve = org in await reserves(session, night_id)
        if night.holder_id is not None:
            if night.offered_at is None or not reserve:
                raise DomainError("night_taken", night=night_id)
            await _take_over(ctx, session, night, org, now)
            audit(session, actor, "nights.take_over", now, target=f"night:{night_id}", org=org)
            return "taken_over"
        if ctx.settings.nights.allocation == "coordinator" and not (reserve and night.handed_on):
            await _record(session, night_id, org, ClaimKind.CLAIM, actor, now)
            audit(session, actor, "nights.apply", now, target=f"night:{night_id}", org=org)
            return "applied"
        await _hold(ctx, session, night, org, now)
        audit(session, actor, "nights.claim", now, target=f"night:{night_id}", org=org)
    return "taken"


async def stand_reserve(ctx: Context, actor: Actor, night_id: int,
                        organisation: str | int | None = None) -> None:
    """"Ställ upp som reserv": offered the night if the holder gives it back or falls short."""
    org = await organisation_of(ctx, actor, organisation)
    now = ctx.now()
    await require_manager(ctx.store, actor, "nights.reserve", org, now, target=f"night:{night_id}")
    async with ctx.store.transaction() as session:
        night = await _open_for(session, night_id, org, now)
        if night.holder_id == org:
            raise DomainError("night_yours", night=night_id)
        await _record(session, night_id, org, ClaimKind.RESERVE, actor, now)
        audit(session, actor, "nights.reserve", now, target=f"night:{night_id}", org=org)


async def allocate_night(ctx: Context, actor: Actor, night_id: int,
                         organisation: str | int) -> None:
    """The coordinator gives an open night to an organisation (whether it claimed or not)."""
    now = ctx.now()
    await require_coordinator(ctx.store, actor, "nights.allocate", now, target=f"night:{night_id}")
    org = await organisation_of(ctx, actor, organisation)
    async with ctx.store.transaction() as session:
        night = await _open_for(session, night_id, org, now)
        if night.holder_id is not None:
            raise DomainError("night_taken", night=night_id)
        await _hold(ctx, session, night, org, now)
        audit(session, actor, "nights.allocate", now, target=f"night:{night_id}", org=org)


async def _open_for(session: AsyncSession, night_id: int, org: int, now: datetime) -> Night:
    night = await holding.get_night(session, night_id)
    if night.status == NightStatus.WITHDRAWN or night.start_at <= now:
        raise DomainError("night_closed", night=night_id)
    return night


async def _hold(ctx: Context, session: AsyncSession, night: Night, org: int, now: datetime) -> None:
    await holding.take(session, night, org)
    await holding.new_shift(session, night, org, now)
    await holding.announce(ctx, session, night, Kind.NIGHT_ALLOCATED, org, now)


async def _take_over(ctx: Context, session: AsyncSession, night: Night, org: int,
                     now: datetime) -> None:
    """The reserve takes the holder's shift as it is: its walkers keep their seats."""
    await holding.take(session, night, org, handing_on=True)
    shift = await session.get(Shift, night.shift_id) if night.shift_id else None
    if shift is not None:
        shift.organisation_id = org
        session.add(shift)
    await holding.announce(ctx, session, night, Kind.NIGHT_HANDED_ON, org, now,
                           taken_over=True)


async def _record(session: AsyncSession, night_id: int, org: int, kind: str, actor: Actor,
                  now: datetime) -> None:
    """The organisation's claim or reserve standing (one row each: the latest word counts)."""
    rows = await session.exec(
        select(NightClaim).where(
            col(NightClaim.night_id) == night_id, col(NightClaim.organisation_id) == org
        )
    )
    claim = rows.first() or NightClaim(night_id=night_id, organisation_id=org, kind=kind,
                                       created_at=now)
    claim.kind, claim.person_id = kind, actor.person_id
    session.add(claim)
