"""Nights offered to organisations: published, claimed first come or allocated, held as a real
shift, given back or short at the final check and handed on to a reserve; every lead told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from models.tables import Shift, ShiftStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.nights import claims, handover
from scheduling.nights.publish import NightSpec, publish_nights
from scheduling.nights.views import upcoming_nights
from scheduling.people.access import Actor
from scheduling.walks import signups
from scheduling.walks.staffing import go_ahead
from tests.helpers import add_people, local, with_settings
from tests.nights_world import kommun, publish
from tests.world import outbox


async def shifts_of(ctx: Context, org: int) -> list[Shift]:
    async with ctx.store.sessions() as session:
        rows = await session.exec(select(Shift).where(col(Shift.organisation_id) == org))
        return list(rows.all())


async def test_a_series_is_published_and_every_lead_told_once(ctx: Context) -> None:
    """Fridays and Saturdays for three weeks: six nights, one notice per lead."""
    k = await kommun(ctx)
    first = (ctx.now() + timedelta(days=2)).astimezone(ctx.zone).date()
    spec = NightSpec(area="stortorget", start=local(f"{first} 21:00"),
                     end=local(f"{first + timedelta(days=1)} 01:00"), min_walkers=4,
                     repeat={4, 5}, until=first + timedelta(days=20))
    nights = await publish_nights(ctx, Actor.of(k.coordinator, "telegram"), spec)
    assert len(nights) == 6 and all(n.min_walkers == 4 for n in nights)
    told = await outbox(ctx, Kind.NIGHTS_PUBLISHED)
    assert sorted(m.person_id for m in told) == sorted(p.id for p in k.leads)
    assert told[0].payload["count"] == 6
    with pytest.raises(PermissionDenied):
        await publish_nights(ctx, k.lead(0), spec)


async def test_first_come_the_night_becomes_the_organisations_shift(ctx: Context) -> None:
    k = await kommun(ctx)
    night = await publish(ctx, k, min_walkers=3)
    assert await claims.claim_night(ctx, k.lead(0), night) == "taken"
    with pytest.raises(DomainError, match="night_taken"):
        await claims.claim_night(ctx, k.lead(1), night)
    (shift,) = await shifts_of(ctx, k.orgs[0])
    assert (shift.min_walkers, shift.area_id) == (3, k.area)
    (walker,) = await add_people(ctx, 1, org=k.orgs[0])
    assert (await signups.sign_up(ctx, walker.id or 0, shift.id or 0)).outcome == "confirmed"
    (view,) = await upcoming_nights(ctx)
    assert (view.holder, view.shift_id, view.status) == ("IFK Kalmar", shift.id, "held")
    allocated = await outbox(ctx, Kind.NIGHT_ALLOCATED)
    assert {m.person_id for m in allocated} == {p.id for p in k.leads}
    assert allocated[0].payload["organisation"] == "IFK Kalmar"


async def test_a_lead_claims_only_for_their_own_organisation(ctx: Context) -> None:
    k = await kommun(ctx)
    night = await publish(ctx, k)
    with pytest.raises(PermissionDenied):
        await claims.claim_night(ctx, k.lead(0), night, organisation=k.orgs[1])
    (walker,) = await add_people(ctx, 1, org=k.orgs[0])
    with pytest.raises(PermissionDenied):
        await claims.claim_night(ctx, Actor.of(walker, "telegram"), night)
    with pytest.raises(PermissionDenied):  # by SMS a lead is no lead (docs/security.md)
        await claims.claim_night(ctx, Actor.of(k.leads[0], "sms"), night)


async def test_given_back_the_night_goes_to_a_reserve(ctx: Context) -> None:
    k = await kommun(ctx)
    night = await publish(ctx, k)
    await claims.claim_night(ctx, k.lead(0), night)
    await claims.stand_reserve(ctx, k.lead(1), night)
    with pytest.raises(DomainError, match="night_yours"):
        await claims.stand_reserve(ctx, k.lead(0), night)
    await handover.give_back(ctx, k.lead(0), night)
    (old,) = await shifts_of(ctx, k.orgs[0])
    assert old.status == ShiftStatus.CANCELLED
    offered = await outbox(ctx, Kind.NIGHT_OFFERED)
    assert [m.person_id for m in offered] == [k.leads[1].id]
    told = await outbox(ctx, Kind.NIGHT_HANDED_ON)
    assert sorted(m.person_id for m in told) == sorted([k.leads[0].id, k.leads[2].id])
    assert await claims.claim_night(ctx, k.lead(1), night) == "taken"
    (new,) = await shifts_of(ctx, k.orgs[1])
    assert new.status == ShiftStatus.PLANNED and new.start_at == old.start_at


async def test_a_shift_cancelled_any_way_hands_the_night_on_at_the_tick(ctx: Context) -> None:
    """"Ställ in" at the final check (or shifts cancel) is the same: the tick reopens it."""
    from scheduling.walks.shifts import cancel_shift

    k = await kommun(ctx)
    night = await publish(ctx, k)
    await claims.claim_night(ctx, k.lead(2), night)
    await claims.stand_reserve(ctx, k.lead(0), night)
    (shift,) = await shifts_of(ctx, k.orgs[2])
    await cancel_shift(ctx, k.lead(2), shift.id or 0)
    await compute_due(ctx)
    await compute_due(ctx)
    assert [m.person_id for m in await outbox(ctx, Kind.NIGHT_OFFERED)] == [k.leads[0].id]
    (view,) = await upcoming_nights(ctx)
    assert view.is_open and view.holder is None


async def test_short_at_the_final_check_a_reserve_takes_the_shift_over(
    ctx: Context, clock: ManualClock
) -> None:
    k = await kommun(ctx)
    night = await publish(ctx, k, days=2, min_walkers=3)
    await claims.claim_night(ctx, k.lead(0), night)
    await claims.stand_reserve(ctx, k.lead(1), night)
    (shift,) = await shifts_of(ctx, k.orgs[0])
    (walker,) = await add_people(ctx, 1, org=k.orgs[0])
    await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    with pytest.raises(DomainError, match="night_taken"):  # not short yet: nothing to take
        await claims.claim_night(ctx, k.lead(1), night)
    clock.set(shift.start_at - timedelta(hours=2))
    await compute_due(ctx)
    assert [m.person_id for m in await outbox(ctx, Kind.FINAL_CHECK)].count(k.leads[0].id) == 1
    assert [m.person_id for m in await outbox(ctx, Kind.NIGHT_OFFERED)] == [k.leads[1].id]
    with pytest.raises(DomainError, match="night_taken"):  # only a reserve may take it over
        await claims.claim_night(ctx, k.lead(2), night)
    assert await claims.claim_night(ctx, k.lead(1), night) == "taken_over"
    (moved,) = await shifts_of(ctx, k.orgs[1])
    assert moved.id == shift.id  # the same shift: the walker keeps the seat
    with pytest.raises(PermissionDenied):  # the old holder no longer decides about it
        await go_ahead(ctx, k.lead(0), shift.id or 0)
    await compute_due(ctx)
    assert len(await outbox(ctx, Kind.NIGHT_OFFERED)) == 1


async def test_the_coordinator_allocates_among_claims_when_configured(ctx: Context) -> None:
    ctx = with_settings(ctx, nights={"allocation": "coordinator"})
    k = await kommun(ctx)
    night = await publish(ctx, k)
    assert await claims.claim_night(ctx, k.lead(0), night) == "applied"
    assert await claims.claim_night(ctx, k.lead(1), night) == "applied"
    (view,) = await upcoming_nights(ctx)
    assert [name for _, name in view.claims] == ["IFK Kalmar", "Röda Korset"]
    assert await shifts_of(ctx, k.orgs[0]) == []
    with pytest.raises(PermissionDenied):
        await claims.allocate_night(ctx, k.lead(0), night, k.orgs[0])
    await claims.allocate_night(ctx, Actor.of(k.coordinator, "telegram"), night, "röda korset")
    assert len(await shifts_of(ctx, k.orgs[1])) == 1
    with pytest.raises(DomainError, match="night_taken"):
        await claims.allocate_night(ctx, Actor.operator(), night, k.orgs[0])


async def test_a_night_that_has_started_is_closed(ctx: Context, clock: ManualClock) -> None:
    k = await kommun(ctx)
    night = await publish(ctx, k, days=1)
    clock.advance(timedelta(days=1, hours=1))
    with pytest.raises(DomainError, match="night_closed"):
        await claims.claim_night(ctx, k.lead(0), night)
