"""An offer's message goes only while the offer stands.

A "a seat came free, confirm by X" message may wait (quiet hours, a provider down, vandra
down) while the offer lapses or is answered. It expires at the offer's deadline, and the
dispatcher's send-time check (``scheduling/messages/relevance.py``) drops it once the sign-up is
no longer offered that very seat; a seat given outright is announced while it is held.
"""

from __future__ import annotations

from datetime import timedelta

from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.kinds import Kind
from scheduling.messages.relevance import stale_reason
from scheduling.walks import signups, waitlist
from tests.fakes.senders import RecordingSender
from tests.test_dispatch import dispatcher
from tests.test_offer_night import at, offered_at, to
from tests.test_offer_race import lapsed_offer
from tests.world import outbox


async def test_an_offers_message_expires_with_the_offer(ctx: Context, clock: ManualClock) -> None:
    """Offered at 23:30 (confirm by 10:00), and nothing was sent before 10:30 (the dispatcher
    was down): the message is recorded expired, not sent."""
    world, _ = await offered_at(
        ctx, clock, "2026-11-28 23:30", "2026-12-04 21:00", "2026-12-05 01:00"
    )
    first = world.walkers[1].id or 0
    (offer,) = await to(ctx, Kind.PROMOTED, first)
    assert offer.expires_at == at(ctx, "2026-11-29 10:00")
    telegram = RecordingSender("telegram")
    clock.set(at(ctx, "2026-11-29 10:30"))
    await dispatcher(ctx, clock, telegram).dispatch_once()
    assert telegram.sent_to(first) == []
    (offer,) = await to(ctx, Kind.PROMOTED, first)
    assert offer.status == "expired"


async def test_a_seat_confirmed_before_the_held_offer_goes_is_not_offered_again(
    ctx: Context, clock: ManualClock
) -> None:
    """The night's offer waits for 08:00; at 07:00 the walker confirms the seat (seen in the
    bot): at 08:00 "confirm by 10:00" is not sent, it is recorded expired with the reason."""
    world, shift = await offered_at(
        ctx, clock, "2026-11-28 23:30", "2026-12-04 21:00", "2026-12-05 01:00"
    )
    first = world.walkers[1].id or 0
    clock.set(at(ctx, "2026-11-29 07:00"))
    assert (await signups.sign_up(ctx, first, shift.id or 0)).outcome == "confirmed"
    telegram = RecordingSender("telegram")
    clock.set(at(ctx, "2026-11-29 08:00"))
    await dispatcher(ctx, clock, telegram).dispatch_once()
    assert telegram.sent_to(first) == []
    (offer,) = await to(ctx, Kind.PROMOTED, first)
    assert offer.status == "expired" and "offer no longer open" in (offer.last_error or "")


async def test_a_lapsed_offer_is_stale_before_and_after_it_is_passed_on(
    ctx: Context, clock: ManualClock
) -> None:
    """The offer's time is up: its message is stale before the tick passes the seat on, and
    after; the next walker's fresh offer is not."""
    offer = await lapsed_offer(ctx, clock)
    (promoted,) = await outbox(ctx, Kind.PROMOTED)
    assert promoted.expires_at is not None and promoted.expires_at < ctx.now()
    async with ctx.store.transaction() as session:
        assert await stale_reason(session, promoted, ctx.now(), 1) == "offer lapsed"
    assert await waitlist.expire_offers(ctx) == 1
    (passed_on,) = await to(ctx, Kind.PROMOTED, offer.next_in_line)
    async with ctx.store.transaction() as session:
        assert await stale_reason(session, promoted, ctx.now(), 1) == "offer no longer open"
        assert await stale_reason(session, passed_on, ctx.now(), 1) is None


async def test_a_seat_given_outright_is_announced_while_it_is_held(
    ctx: Context, clock: ManualClock
) -> None:
    """Too close to the start to confirm, the seat is given; if the walker gives it back
    before the message went, "you are now signed up" is not sent."""
    world, shift = await offered_at(
        ctx, clock, "2026-11-29 07:00", "2026-11-29 09:00", "2026-11-29 13:00"
    )
    first = world.walkers[1].id or 0
    (given,) = await to(ctx, Kind.PROMOTED, first)
    assert given.payload["needs_confirmation"] is False and given.expires_at is None
    async with ctx.store.transaction() as session:
        assert await stale_reason(session, given, ctx.now(), 1) is None
    clock.advance(timedelta(minutes=1))
    await signups.cancel_signup(ctx, first, shift.id or 0)
    async with ctx.store.transaction() as session:
        assert await stale_reason(session, given, ctx.now(), 1) == "no longer signed up"


async def test_an_earlier_offer_to_the_same_sign_up_is_stale(
    ctx: Context, clock: ManualClock
) -> None:
    """Offered, lapsed, back in line and offered again: the first offer's message (its
    "confirm by" long past) is stale although the sign-up is on offer again; the second's not."""
    offer = await lapsed_offer(ctx, clock)
    await waitlist.expire_offers(ctx)  # the seat goes to the next in line
    await signups.sign_up(ctx, offer.offered, offer.shift_id)  # back in line
    await signups.cancel_signup(ctx, offer.next_in_line, offer.shift_id)  # offered again
    first, second = await to(ctx, Kind.PROMOTED, offer.offered)
    assert (first.payload["offer"], second.payload["offer"]) == (1, 2)
    async with ctx.store.transaction() as session:
        assert await stale_reason(session, first, ctx.now(), 1) == "offer no longer open"
        assert await stale_reason(session, second, ctx.now(), 1) is None
