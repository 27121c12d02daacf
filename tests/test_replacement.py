"""A late cancellation: the one-tap "find a replacement", first to accept gets the seat."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.walks import signups
from scheduling.walks.replacement import request_replacement
from tests.world import make_world, outbox, shift_at


async def test_late_cancel_prompts_and_the_first_to_accept_gets_the_seat(
    ctx: Context, clock: ManualClock
) -> None:
    """Cancel 10 h before a full shift: prompted once; the seat is offered to the free
    volunteers; the first to accept is confirmed, the second lands on the waitlist."""
    world = await make_world(ctx, walkers=4)
    walker, stays, first, second = world.walkers
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", max_walkers=2)
    for person in (walker, stays):
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    clock.set(shift.start_at - timedelta(hours=10))
    result = await signups.cancel_signup(ctx, walker.id or 0, shift.id or 0)
    assert result.late
    await compute_due(ctx)
    await compute_due(ctx)
    (prompt,) = await outbox(ctx, Kind.REPLACE_PROMPT)
    assert prompt.person_id == walker.id and prompt.expires_at == shift.start_at
    offered = await request_replacement(ctx, walker.id or 0, shift.id or 0)
    assert offered == 2
    offers = await outbox(ctx, Kind.REPLACEMENT_OFFER)
    assert {m.person_id for m in offers} == {first.id, second.id}
    winner = await signups.sign_up(ctx, first.id or 0, shift.id or 0)
    loser = await signups.sign_up(ctx, second.id or 0, shift.id or 0)
    assert (winner.outcome, loser.outcome) == ("confirmed", "waitlisted")
    with pytest.raises(DomainError, match="replacement_not_needed"):
        await request_replacement(ctx, walker.id or 0, shift.id or 0)


async def test_no_prompt_for_an_early_cancel_or_a_seat_the_waitlist_filled(
    ctx: Context, clock: ManualClock
) -> None:
    """Cancelled two days before: no prompt; cancelled late but the waitlist took the seat:
    no prompt either; and only a late canceller may ask for a replacement."""
    world = await make_world(ctx, walkers=3)
    early, late, waiting = world.walkers
    roomy = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    full = await shift_at(ctx, world, "2026-11-27 17:00", "2026-11-27 20:00", max_walkers=1)
    await signups.sign_up(ctx, early.id or 0, roomy.id or 0)
    await signups.cancel_signup(ctx, early.id or 0, roomy.id or 0)
    await signups.sign_up(ctx, late.id or 0, full.id or 0)
    await signups.sign_up(ctx, waiting.id or 0, full.id or 0)
    clock.set(full.start_at - timedelta(hours=1))  # too close to confirm: the seat is given
    await signups.cancel_signup(ctx, late.id or 0, full.id or 0)
    await compute_due(ctx)
    assert await outbox(ctx, Kind.REPLACE_PROMPT) == []
    with pytest.raises(DomainError, match="no_late_cancellation"):
        await request_replacement(ctx, early.id or 0, roomy.id or 0)
    with pytest.raises(DomainError, match="replacement_not_needed"):
        await request_replacement(ctx, late.id or 0, full.id or 0)
