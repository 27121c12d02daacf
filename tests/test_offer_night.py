"""A waitlist offer made in the night: its window does not count quiet hours, and neither the
offer nor the notice that it lapsed goes out in the night unless the walk cannot wait.

``[reminders] quiet_hours`` is 22:00-08:00 and ``promotion_confirm_within`` two hours (the
defaults). The seat may not stay on offer later than ``staffing_final_check_before`` (3 h) the
start: then the window ends there, in the night if need be, and the offer is sent at once.
"""

from __future__ import annotations

from datetime import datetime

from models.tables import OutboxMessage, Shift, SignupStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.localtime import to_utc
from scheduling.walks import signups, waitlist
from tests.helpers import local as naive
from tests.test_offer_race import statuses
from tests.world import World, make_world, outbox, shift_at


def at(ctx: Context, text: str) -> datetime:
    """A local wall time ``YYYY-MM-DD HH:MM`` as an instant."""
    return to_utc(naive(text), ctx.zone)


async def offered_at(
    ctx: Context, clock: ManualClock, moment: str, start: str, end: str
) -> tuple[World, Shift]:
    """One seat, three walkers: the holder cancels at ``moment``, the first in line is offered
    the seat, the second waits behind."""
    world = await make_world(ctx, walkers=3)
    shift = await shift_at(ctx, world, start, end, max_walkers=1)
    clock.set(at(ctx, "2026-11-27 20:00"))
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(at(ctx, moment))
    cancelled = await signups.cancel_signup(ctx, world.walkers[0].id or 0, shift.id or 0)
    assert cancelled.promoted_person_ids == [world.walkers[1].id]
    return world, shift


async def to(ctx: Context, kind: str, person: int | None) -> list[OutboxMessage]:
    return [m for m in await outbox(ctx, kind) if m.person_id == person]


async def test_an_offer_made_at_half_past_eleven_waits_for_the_morning(
    ctx: Context, clock: ManualClock
) -> None:
    """Offered at 23:30 for a walk six days away: the offer is sent at 08:00 and is to be
    confirmed by 10:00 (two waking hours). At 01:31 nothing lapses and nobody is texted; at
    10:01 the seat passes on, the sleeper and the next walker are told then."""
    world, shift = await offered_at(
        ctx, clock, "2026-11-28 23:30", "2026-12-04 21:00", "2026-12-05 01:00"
    )
    first, second = world.walkers[1].id, world.walkers[2].id
    (offer,) = await to(ctx, "promoted", first)
    assert offer.payload["confirm_by"] == at(ctx, "2026-11-29 10:00").isoformat()
    assert (offer.due_at, offer.urgent) == (at(ctx, "2026-11-29 08:00"), False)

    clock.set(at(ctx, "2026-11-29 01:31"))
    assert await waitlist.expire_offers(ctx) == 0
    assert (await statuses(ctx, shift.id or 0))[first or 0] == SignupStatus.OFFERED
    assert await to(ctx, "promoted", second) == []

    clock.set(at(ctx, "2026-11-29 10:01"))
    assert await waitlist.expire_offers(ctx) == 1
    (expired,) = await to(ctx, "offer_expired", first)
    assert expired.due_at == at(ctx, "2026-11-29 10:01")
    (passed_on,) = await to(ctx, "promoted", second)
    assert passed_on.due_at == at(ctx, "2026-11-29 10:01")
    assert passed_on.payload["confirm_by"] == at(ctx, "2026-11-29 12:01").isoformat()


async def test_an_evening_offer_counts_the_half_hour_before_the_night(
    ctx: Context, clock: ManualClock
) -> None:
    """Offered at 21:30: sent at once, to be confirmed by 09:30 (half an hour before 22:00,
    an hour and a half after 08:00)."""
    world, _ = await offered_at(
        ctx, clock, "2026-11-28 21:30", "2026-12-04 21:00", "2026-12-05 01:00"
    )
    (offer,) = await to(ctx, "promoted", world.walkers[1].id)
    assert offer.payload["confirm_by"] == at(ctx, "2026-11-29 09:30").isoformat()
    assert (offer.due_at, offer.urgent) == (at(ctx, "2026-11-28 21:30"), True)


async def test_a_walk_early_next_morning_cannot_wait_for_the_sleeper(
    ctx: Context, clock: ManualClock
) -> None:
    """Offered at 23:30 for a walk at 09:00: the seat is needed by 06:00 (three hours before
    the start), so the offer goes at once and lapses at 06:00. The notice that it lapsed, and
    the seat simply given to the next walker (no time left to confirm), wait until 08:00,
    which is still before the walk."""
    world, shift = await offered_at(
        ctx, clock, "2026-11-28 23:30", "2026-11-29 09:00", "2026-11-29 13:00"
    )
    first, second = world.walkers[1].id, world.walkers[2].id
    (offer,) = await to(ctx, "promoted", first)
    assert offer.payload["confirm_by"] == at(ctx, "2026-11-29 06:00").isoformat()
    assert (offer.due_at, offer.urgent) == (at(ctx, "2026-11-28 23:30"), True)

    clock.set(at(ctx, "2026-11-29 06:01"))
    assert await waitlist.expire_offers(ctx) == 1
    (expired,) = await to(ctx, "offer_expired", first)
    assert expired.due_at == at(ctx, "2026-11-29 08:00")
    (given,) = await to(ctx, "promoted", second)
    assert given.payload["needs_confirmation"] is False
    assert given.due_at == at(ctx, "2026-11-29 08:00")
    assert (await statuses(ctx, shift.id or 0))[second or 0] == SignupStatus.CONFIRMED
