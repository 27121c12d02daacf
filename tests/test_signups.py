"""Sign-ups: seats, the waitlist, promotion, cancelling, check-in/out, no-shows, the race."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import select

from models.db import Store
from models.tables import OutboxMessage, Person, Role, SignupStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import shifts, signups
from tests.helpers import OPERATOR, add_people, add_shift, seed_org_area
from tests.race import gate_the_seat_count


async def test_confirmed_until_full_then_waitlisted_in_order(ctx: Context) -> None:
    """Seats go to the first max walkers; the rest queue in arrival order."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=2, min_walkers=1)
    people = await add_people(ctx, 4, org=org)
    results = [await signups.sign_up(ctx, p.id or 0, shift.id or 0) for p in people]
    assert [r.outcome for r in results] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [r.waitlist_position for r in results[2:]] == [1, 2]
    assert results[-1].view.confirmed == 2 and results[-1].view.waitlisted == 2
    assert results[-1].view.staffing == "understaffed"  # nobody trained yet


async def test_double_sign_up_is_refused(ctx: Context) -> None:
    """The same person cannot sign up twice for one shift."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    (person,) = await add_people(ctx, 1, org=org)
    await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    with pytest.raises(DomainError, match="already_confirmed"):
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)


async def test_overlapping_shift_is_refused(ctx: Context) -> None:
    """A person cannot hold seats on two shifts that overlap in time."""
    org, area = await seed_org_area(ctx)
    other_area = await directory.add_area(ctx, OPERATOR, "Kvarnholmen")
    first = await add_shift(ctx, org, area, hours=4)
    second = await add_shift(ctx, org, other_area.id or 0, start_in=timedelta(days=3, hours=2))
    (person,) = await add_people(ctx, 1, org=org)
    await signups.sign_up(ctx, person.id or 0, first.id or 0)
    with pytest.raises(DomainError) as caught:
        await signups.sign_up(ctx, person.id or 0, second.id or 0)
    assert caught.value.code == "overlapping_shift" and caught.value.params["other"] == first.id


async def test_no_sign_up_on_started_or_cancelled_shift(ctx: Context, clock: ManualClock) -> None:
    """Started and cancelled shifts take no sign-ups."""
    org, area = await seed_org_area(ctx)
    soon = await add_shift(ctx, org, area, start_in=timedelta(hours=1))
    later = await add_shift(ctx, org, area, start_in=timedelta(days=5))
    (person,) = await add_people(ctx, 1, org=org)
    await shifts.cancel_shift(ctx, OPERATOR, later.id or 0)
    clock.advance(timedelta(hours=2))
    with pytest.raises(DomainError, match="shift_started"):
        await signups.sign_up(ctx, person.id or 0, soon.id or 0)
    with pytest.raises(DomainError, match="shift_cancelled"):
        await signups.sign_up(ctx, person.id or 0, later.id or 0)


async def test_no_sign_up_without_consent(ctx: Context) -> None:
    """A person who has not consented (mid-registration) cannot sign up."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    async with ctx.store.transaction() as session:
        person = Person(name="Ny", created_at=ctx.now())
        session.add(person)
    with pytest.raises(DomainError, match="consent_required"):
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)


async def test_cancel_promotes_first_waitlisted_with_an_offer(
    ctx: Context, clock: ManualClock
) -> None:
    """A freed seat is offered to the first in line, who confirms by signing up; others wait."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=1, min_walkers=1)
    first, second, third = await add_people(ctx, 3, org=org)
    for person in (first, second, third):
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    result = await signups.cancel_signup(ctx, first.id or 0, shift.id or 0)
    assert result.held_seat and not result.late
    assert result.promoted_person_ids == [second.id]
    assert result.view.offered == 1 and result.view.waitlisted == 1
    async with ctx.store.sessions() as session:
        message = (await session.exec(select(OutboxMessage))).one()
    assert message.kind == "promoted" and message.person_id == second.id
    assert message.payload["needs_confirmation"] is True
    confirmed = await signups.sign_up(ctx, second.id or 0, shift.id or 0)
    assert confirmed.outcome == "confirmed" and confirmed.view.confirmed == 1


async def test_unconfirmed_offer_passes_to_the_next(ctx: Context, clock: ManualClock) -> None:
    """Without an answer within promotion_confirm_within, the seat goes to the next in line."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=1, min_walkers=1)
    first, second, third = await add_people(ctx, 3, org=org)
    for person in (first, second, third):
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    await signups.cancel_signup(ctx, first.id or 0, shift.id or 0)
    clock.advance(timedelta(hours=1, minutes=59))
    assert await signups.expire_offers(ctx) == 0
    clock.advance(timedelta(minutes=1))
    assert await signups.expire_offers(ctx) == 1
    async with ctx.store.sessions() as session:
        kinds = [
            (m.kind, m.person_id)
            for m in (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        ]
    assert kinds == [("promoted", second.id), ("offer_expired", second.id), ("promoted", third.id)]


async def test_promotion_close_to_start_is_confirmed_at_once(ctx: Context) -> None:
    """Inside the final-check window there is no time to confirm: the seat is simply given."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(
        ctx, org, area, start_in=timedelta(hours=2), max_walkers=1, min_walkers=1
    )
    first, second = await add_people(ctx, 2, org=org)
    await signups.sign_up(ctx, first.id or 0, shift.id or 0)
    await signups.sign_up(ctx, second.id or 0, shift.id or 0)
    result = await signups.cancel_signup(ctx, first.id or 0, shift.id or 0)
    assert result.late and result.view.confirmed == 1 and result.view.offered == 0


async def test_staffing_needs_enough_trained_walkers(ctx: Context) -> None:
    """Enough walkers but none trained is understaffed; with one trained it is ok; at max, full."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, min_walkers=2, max_walkers=3)
    untrained = await add_people(ctx, 2, org=org)
    (trained,) = await add_people(ctx, 1, org=org, trained=True, prefix="Trained")
    states = []
    for person in (*untrained, trained):
        states.append((await signups.sign_up(ctx, person.id or 0, shift.id or 0)).view.staffing)
    assert states == ["understaffed", "understaffed", "full"]
    await signups.cancel_signup(ctx, untrained[0].id or 0, shift.id or 0)
    async with ctx.store.sessions() as session:
        view = await shifts.get_shift_view(session, ctx, shift.id or 0)
    assert view.staffing == "ok"


async def test_check_in_and_out(ctx: Context, clock: ManualClock) -> None:
    """Check-in opens an hour before the start; check-out needs a check-in; repeats are no-ops."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=3))
    (person,) = await add_people(ctx, 1, org=org)
    await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    with pytest.raises(DomainError, match="check_in_too_early"):
        await signups.check_in(ctx, person.id or 0, shift.id or 0)
    with pytest.raises(DomainError, match="not_checked_in"):
        await signups.check_out(ctx, person.id or 0, shift.id or 0)
    clock.advance(timedelta(hours=2, minutes=30))
    _, changed = await signups.check_in(ctx, person.id or 0, shift.id or 0)
    _, again = await signups.check_in(ctx, person.id or 0, shift.id or 0)
    assert (changed, again) == (True, False)
    clock.advance(timedelta(hours=4))
    signup, changed = await signups.check_out(ctx, person.id or 0, shift.id or 0)
    assert changed and signup.checked_out_at == ctx.now()


async def test_no_show_is_counted_and_restricted(ctx: Context, clock: ManualClock) -> None:
    """A lead of the shift's organisation marks a no-show; a volunteer may not."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=1))
    walker, volunteer = await add_people(ctx, 2, org=org)
    (lead,) = await add_people(ctx, 1, org=org, role=Role.LEAD, prefix="Lead")
    await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.advance(timedelta(hours=2))
    with pytest.raises(PermissionDenied):
        await signups.mark_no_show(
            ctx, Actor.of(volunteer, "telegram"), shift.id or 0, walker.id or 0
        )
    await signups.mark_no_show(ctx, Actor.of(lead, "telegram"), shift.id or 0, walker.id or 0)
    await signups.mark_no_show(ctx, Actor.of(lead, "telegram"), shift.id or 0, walker.id or 0)
    async with ctx.store.sessions() as session:
        stored = await session.get(Person, walker.id)
    assert stored is not None and stored.no_show_count == 1


async def test_racing_for_the_last_seat(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten people, each through a store (an engine, a connection) of their own as if in ten
    processes, race for the last seat: exactly one gets it. A gate holds each racer after it
    took the shift's lock until all ten are there (or a second passed), so without the lock
    all ten count the seats at once (``tests/race.py``)."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=3, min_walkers=1)
    early = await add_people(ctx, 2, org=org, prefix="Early")
    for person in early:
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    racers = await add_people(ctx, 10, org=org, prefix="Racer")
    gate_the_seat_count(monkeypatch, len(racers))
    stores = [Store.open(ctx.settings.database.url) for _ in racers]
    start = asyncio.Event()

    async def race(person_id: int, store: Store) -> str:
        own = dataclasses.replace(ctx, store=store)
        await start.wait()
        return (await signups.sign_up(own, person_id, shift.id or 0)).outcome

    tasks = [asyncio.create_task(race(p.id or 0, st)) for p, st in zip(racers, stores, strict=True)]
    await asyncio.sleep(0)
    start.set()
    try:
        outcomes = await asyncio.gather(*tasks)
    finally:
        for store in stores:
            await store.close()
    assert sorted(outcomes).count("confirmed") == 1
    assert outcomes.count("waitlisted") == 9
    async with ctx.store.sessions() as session:
        view = await shifts.get_shift_view(session, ctx, shift.id or 0)
        held = [
            s
            for s in await shifts.active_signups(session, shift.id or 0)
            if s.status == SignupStatus.CONFIRMED
        ]
    assert view.confirmed == 3 == len(held)
    assert view.waitlisted == 9


async def test_a_sign_ups_view_and_place_in_line_match_a_fresh_read(ctx: Context) -> None:
    """The view a sign-up answers with is counted from the sign-ups read under the lock; it
    must be what the database says afterwards, through seats, waitlist places, an offered seat
    confirmed, trained and untrained walkers."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=2, start_in=timedelta(days=5))
    trained = await add_people(ctx, 2, org=org, trained=True, prefix="Trained")
    others = await add_people(ctx, 3, org=org, prefix="Other")
    order = [trained[0], others[0], trained[1], others[1], others[2]]
    places = []
    for person in order:
        result = await signups.sign_up(ctx, person.id or 0, shift.id or 0)
        async with ctx.store.sessions() as session:
            assert result.view == await shifts.get_shift_view(session, ctx, shift.id or 0)
        places.append(result.waitlist_position)
    assert places == [None, None, 1, 2, 3]
    await signups.cancel_signup(ctx, others[0].id or 0, shift.id or 0)  # trained[1] is offered
    confirmed = await signups.sign_up(ctx, trained[1].id or 0, shift.id or 0)
    assert confirmed.outcome == "confirmed"
    async with ctx.store.sessions() as session:
        fresh = await shifts.get_shift_view(session, ctx, shift.id or 0)
    assert confirmed.view == fresh
    assert (fresh.confirmed, fresh.offered, fresh.waitlisted, fresh.trained) == (2, 0, 2, 2)
