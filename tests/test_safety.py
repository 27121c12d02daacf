"""The safety check-out alert: raised when nobody checked out, repeated until acknowledged."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from models.tables import SafetyAlert, SafetyAlertStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import PermissionDenied
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.people.access import Actor
from scheduling.walks import signups
from scheduling.walks.safety import acknowledge_alert, open_alerts
from tests.world import World, make_world, outbox, shift_at


async def walked_in(ctx: Context, clock: ManualClock) -> tuple[World, int]:
    """A 21:00-01:00 walk with two walkers who checked in; the clock at its planned end."""
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.start_at)
    for walker in world.walkers:
        await signups.check_in(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.end_at)
    return world, shift.id or 0


def repetitions(messages: list) -> dict[int, set[int]]:  # type: ignore[type-arg]
    found: dict[int, set[int]] = {}
    for message in messages:
        found.setdefault(message.payload["repetition"], set()).add(message.person_id)
    return found


async def test_alert_is_raised_30_minutes_after_the_end_and_repeats(
    ctx: Context, clock: ManualClock
) -> None:
    """Nobody checked out: at end + 30 min the lead and coordinator are alerted, then again
    every 15 minutes, urgent and never expiring."""
    world, shift_id = await walked_in(ctx, clock)
    clock.advance(timedelta(minutes=29))
    await compute_due(ctx)
    assert await outbox(ctx, Kind.SAFETY_ALERT) == []
    clock.advance(timedelta(minutes=1))
    await compute_due(ctx)
    clock.advance(timedelta(minutes=14))
    await compute_due(ctx)
    alerts = await outbox(ctx, Kind.SAFETY_ALERT)
    assert repetitions(alerts) == {0: world.managers}
    assert all(m.urgent and m.expires_at is None for m in alerts)
    clock.advance(timedelta(minutes=1))
    await compute_due(ctx)
    await compute_due(ctx)
    assert repetitions(await outbox(ctx, Kind.SAFETY_ALERT)) == {
        0: world.managers,
        1: world.managers,
    }
    (alert,) = await open_alerts(ctx)
    assert alert.shift_id == shift_id


async def test_acknowledging_stops_the_repeats_and_tells_the_others(
    ctx: Context, clock: ManualClock
) -> None:
    """A volunteer may not acknowledge; the lead does: no more repetitions, the coordinator
    is told who took it; acknowledging again changes nothing."""
    world, _ = await walked_in(ctx, clock)
    clock.advance(timedelta(minutes=30))
    await compute_due(ctx)
    (alert,) = await open_alerts(ctx)
    with pytest.raises(PermissionDenied):
        await acknowledge_alert(ctx, Actor.of(world.walkers[0], "telegram"), alert.id or 0)
    by_sms = replace(Actor.of(world.lead, "sms"), confirmed=True)  # with its one-time code
    acknowledged = await acknowledge_alert(ctx, by_sms, alert.id or 0)
    assert acknowledged.status == SafetyAlertStatus.ACKNOWLEDGED
    assert acknowledged.acknowledged_by == world.lead.id
    again = await acknowledge_alert(ctx, Actor.of(world.coordinator, "telegram"), alert.id or 0)
    assert again.acknowledged_by == world.lead.id
    clock.advance(timedelta(hours=1))
    await compute_due(ctx)
    assert set(repetitions(await outbox(ctx, Kind.SAFETY_ALERT))) == {0}
    (told,) = await outbox(ctx, Kind.SAFETY_ACKNOWLEDGED)
    assert told.person_id == world.coordinator.id
    assert await open_alerts(ctx) == []


async def test_one_check_out_does_not_end_the_alert_for_the_others(
    ctx: Context, clock: ManualClock
) -> None:
    """One of two walkers checks out after the alert: it stays open and repeats (the other is
    still out, and a check-out by SMS may come from a forged number); once the second has
    checked out too it is resolved and repeats no more."""
    world, shift_id = await walked_in(ctx, clock)
    clock.advance(timedelta(minutes=31))
    await compute_due(ctx)
    await signups.check_out(ctx, world.walkers[0].id or 0, shift_id)
    clock.advance(timedelta(minutes=15))
    await compute_due(ctx)
    assert set(repetitions(await outbox(ctx, Kind.SAFETY_ALERT))) == {0, 1}
    assert [a.shift_id for a in await open_alerts(ctx)] == [shift_id]
    await signups.check_out(ctx, world.walkers[1].id or 0, shift_id)
    clock.advance(timedelta(minutes=30))
    await compute_due(ctx)
    assert set(repetitions(await outbox(ctx, Kind.SAFETY_ALERT))) == {0, 1}
    assert await open_alerts(ctx) == []
    async with ctx.store.sessions() as session:
        (stored,) = (await session.exec(select(SafetyAlert))).all()
    assert stored.status == SafetyAlertStatus.RESOLVED


async def test_a_check_in_after_the_end_raises_no_alert(ctx: Context, clock: ManualClock) -> None:
    """A walker who forgot to check in taps "Checka in" the next morning (the window is open
    until end + 8 h): a late record that they walked, not a group out on the street, so no
    urgent alert to the leads and coordinators, then or later."""
    world = await make_world(ctx, walkers=3)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(hours=6))
    await compute_due(ctx)
    signup, changed = await signups.check_in(ctx, world.walkers[0].id or 0, shift.id or 0)
    assert changed and signup.checked_out_at is None
    for _ in range(3):
        await compute_due(ctx)
        clock.advance(timedelta(minutes=20))
    assert await open_alerts(ctx) == []
    assert await outbox(ctx, Kind.SAFETY_ALERT) == []


async def test_a_check_in_just_after_the_end_raises_no_alert_either(
    ctx: Context, clock: ManualClock
) -> None:
    """The line is the planned end: a check-in a minute after it, before the alert's moment,
    is late too; one a minute before it counts as out walking."""
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    other = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    await signups.sign_up(ctx, world.walkers[1].id or 0, other.id or 0)
    clock.set(shift.end_at - timedelta(minutes=1))
    await signups.check_in(ctx, world.walkers[1].id or 0, other.id or 0)
    clock.set(shift.end_at + timedelta(minutes=1))
    await signups.check_in(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(minutes=31))
    await compute_due(ctx)
    assert [a.shift_id for a in await open_alerts(ctx)] == [other.id]


async def test_a_late_check_in_does_not_hold_an_alert_open(
    ctx: Context, clock: ManualClock
) -> None:
    """Two walked and were alerted for; a third checks in the morning after. Once the two
    have checked out the alert is resolved: the late record is nobody to look for."""
    world = await make_world(ctx, walkers=3)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    shift_id, (*walked, late) = shift.id or 0, world.walkers
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift_id)
    clock.set(shift.start_at)
    for walker in walked:
        await signups.check_in(ctx, walker.id or 0, shift_id)
    clock.set(shift.end_at)
    clock.advance(timedelta(minutes=31))
    await compute_due(ctx)
    assert len(await open_alerts(ctx)) == 1
    await signups.check_in(ctx, late.id or 0, shift_id)
    for walker in walked:
        await signups.check_out(ctx, walker.id or 0, shift_id)
    clock.advance(timedelta(minutes=15))
    await compute_due(ctx)
    assert await open_alerts(ctx) == []


async def test_no_alert_when_someone_checked_out_or_nobody_checked_in(
    ctx: Context, clock: ManualClock
) -> None:
    """Checked out in time, or never checked in: no alert."""
    world = await make_world(ctx, walkers=2)
    checked_out = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    never_in = await shift_at(ctx, world, "2026-11-27 18:00", "2026-11-27 20:00")
    await signups.sign_up(ctx, world.walkers[0].id or 0, checked_out.id or 0)
    await signups.sign_up(ctx, world.walkers[1].id or 0, never_in.id or 0)
    clock.set(checked_out.start_at)
    await signups.check_in(ctx, world.walkers[0].id or 0, checked_out.id or 0)
    clock.set(checked_out.end_at)
    await signups.check_out(ctx, world.walkers[0].id or 0, checked_out.id or 0)
    clock.advance(timedelta(hours=2))
    await compute_due(ctx)
    assert await outbox(ctx, Kind.SAFETY_ALERT) == []


async def test_after_an_outage_only_the_current_repetition_goes_out(
    ctx: Context, clock: ManualClock
) -> None:
    """Down until two hours after the end: the alert starts at its current repetition (6)."""
    world, _ = await walked_in(ctx, clock)
    clock.advance(timedelta(hours=2))
    await compute_due(ctx)
    assert repetitions(await outbox(ctx, Kind.SAFETY_ALERT)) == {6: world.managers}
