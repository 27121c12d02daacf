"""The overdue check-out alert and a check-out by SMS: ``UT <id>`` names its sender by a number
anyone can forge, so one such check-out never silences the alert for the rest of the group."""

from __future__ import annotations

from datetime import timedelta

from models.tables import Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.walks import signups
from scheduling.walks.safety import open_alerts
from tests.test_sms import Phone, client_for, sms_ctx
from tests.world import World, make_world, outbox, shift_at


async def overdue(ctx: Context, clock: ManualClock, walkers: int = 3) -> tuple[World, Shift]:
    """A 21-01 walk; everyone checked in at the start; the clock 45 min past the end, the
    alert open."""
    world = await make_world(ctx, walkers=walkers)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.start_at + timedelta(minutes=5))
    for walker in world.walkers:
        await signups.check_in(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(minutes=45))
    await compute_due(ctx)
    assert len(await open_alerts(ctx)) == 1
    return world, shift


async def test_a_bare_sms_check_out_does_not_silence_the_alert_for_the_others(
    ctx: Context, clock: ManualClock
) -> None:
    """A (perhaps forged) ``UT <id>`` from one walker's number: the alert stays open and
    repeats, naming the two still out."""
    world, shift = await overdue(ctx, clock)
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        await Phone(client, world.walkers[0].phone or "").text(f"UT {shift.id}")
    clock.advance(timedelta(minutes=15))
    await compute_due(ctx)
    assert [a.shift_id for a in await open_alerts(ctx)] == [shift.id]
    repeated = [m for m in await outbox(ctx, Kind.SAFETY_ALERT) if m.payload["repetition"] == 2]
    assert {m.person_id for m in repeated} == world.managers
