"""What is due: reminders, prompts and their moments, outages, DST nights and quiet hours.

The clock is a ManualClock; each test moves it and runs ``compute_due`` itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.tables import OutboxStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.due import compute_due
from scheduling.messages.due_planning import MISSED
from scheduling.messages.kinds import Kind
from scheduling.walks import signups
from tests.world import local, make_world, outbox, shift_at


async def sign_up_all(ctx: Context, people: list, shift_id: int) -> None:  # type: ignore[type-arg]
    for walker in people:
        await signups.sign_up(ctx, walker.id or 0, shift_id)


async def test_reminders_go_out_at_their_moments_and_only_once(
    ctx: Context, clock: ManualClock
) -> None:
    """24h and 2h before the start each confirmed walker gets one reminder, expiring at start."""
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await sign_up_all(ctx, world.walkers, shift.id or 0)
    clock.set(shift.start_at - timedelta(hours=24, seconds=1))
    await compute_due(ctx)
    assert await outbox(ctx, Kind.REMINDER) == []
    clock.set(shift.start_at - timedelta(hours=24))
    assert (await compute_due(ctx))["reminders"] == 2
    assert (await compute_due(ctx))["reminders"] == 0
    clock.set(shift.start_at - timedelta(hours=2))
    await compute_due(ctx)
    reminders = await outbox(ctx, Kind.REMINDER)
    assert sorted(m.dedupe_key for m in reminders) == sorted(
        f"reminder:{label}:signup:{s}" for label in ("24h", "2h") for s in (1, 2)
    )
    assert {local(m.due_at, ctx) for m in reminders} == {
        "2026-11-26 21:00 CET",
        "2026-11-27 19:00 CET",
    }
    assert all(m.expires_at == shift.start_at and m.status == "pending" for m in reminders)


async def test_a_sign_up_after_the_moment_gets_no_stale_reminder(
    ctx: Context, clock: ManualClock
) -> None:
    """Signed up 20 h before: no 24h reminder, ever; the 2h reminder still comes."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    clock.set(shift.start_at - timedelta(hours=20))
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    await compute_due(ctx)
    assert await outbox(ctx, Kind.REMINDER) == []
    clock.set(shift.start_at - timedelta(hours=2))
    await compute_due(ctx)
    assert [m.dedupe_key for m in await outbox(ctx, Kind.REMINDER)] == ["reminder:2h:signup:1"]


async def test_reminders_due_during_an_outage_still_go_out_before_the_start(
    ctx: Context, clock: ManualClock
) -> None:
    """Down from three days before until an hour before: both reminders are queued, due now."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(shift.start_at - timedelta(hours=1))
    await compute_due(ctx)
    reminders = await outbox(ctx, Kind.REMINDER)
    assert [(m.status, m.due_at <= ctx.now()) for m in reminders] == [("pending", True)] * 2


async def test_reminders_missed_during_an_outage_are_recorded_as_expired(
    ctx: Context, clock: ManualClock
) -> None:
    """Down until after the start: the reminders are recorded expired (missed), never sent;
    the check-in prompt, still meaningful until the end, is queued."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(shift.start_at + timedelta(minutes=30))
    await compute_due(ctx)
    reminders = await outbox(ctx, Kind.REMINDER)
    assert [(m.status, m.last_error) for m in reminders] == [("expired", MISSED)] * 2
    (prompt,) = await outbox(ctx, Kind.CHECK_IN_PROMPT)
    assert prompt.status == "pending" and prompt.expires_at == shift.end_at
    assert all(v == 0 for v in (await compute_due(ctx)).values())


async def test_check_in_at_start_and_report_prompt_after_a_walk_across_midnight(
    ctx: Context, clock: ManualClock
) -> None:
    """21:00-01:00: check-in prompt at 21:00; report prompt at 01:15, not held by quiet hours."""
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await sign_up_all(ctx, world.walkers, shift.id or 0)
    clock.set(shift.start_at)
    await compute_due(ctx)
    assert {local(m.due_at, ctx) for m in await outbox(ctx, Kind.CHECK_IN_PROMPT)} == {
        "2026-11-27 21:00 CET"
    }
    clock.set(shift.end_at + timedelta(minutes=14))
    await compute_due(ctx)
    assert await outbox(ctx, Kind.REPORT_PROMPT) == []
    clock.set(shift.end_at + timedelta(minutes=15))
    await compute_due(ctx)
    prompts = await outbox(ctx, Kind.REPORT_PROMPT)
    assert len(prompts) == 2
    assert {local(m.due_at, ctx) for m in prompts} == {"2026-11-28 01:15 CET"}


async def test_no_walker_messages_for_a_cancelled_shift_or_a_cancelled_sign_up(
    ctx: Context, clock: ManualClock
) -> None:
    """A walker who cancelled gets no reminder; a cancelled shift gets no prompts."""
    from scheduling.walks.shifts import cancel_shift
    from tests.helpers import OPERATOR

    world = await make_world(ctx, walkers=2)
    kept = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    dropped = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00")
    await sign_up_all(ctx, world.walkers, kept.id or 0)
    await sign_up_all(ctx, world.walkers, dropped.id or 0)
    await signups.cancel_signup(ctx, world.walkers[1].id or 0, kept.id or 0)
    await cancel_shift(ctx, OPERATOR, dropped.id or 0)
    clock.set(kept.end_at + timedelta(hours=1))
    await compute_due(ctx)
    walker_kinds = (Kind.REMINDER, Kind.CHECK_IN_PROMPT, Kind.REPORT_PROMPT)
    messages = [m for m in await outbox(ctx) if m.kind in walker_kinds]
    assert {m.person_id for m in messages} == {world.walkers[0].id}
    assert {m.payload["shift_id"] for m in messages} == {kept.id}


async def test_october_dst_night_keeps_real_durations(ctx: Context, clock: ManualClock) -> None:
    """22:00-03:00 on 24/25 Oct 2026 (clocks go back at 03:00): six real hours; the 2h
    reminder at 20:00 CEST, the report prompt at 03:15 CET."""
    clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-10-24 22:00", "2026-10-25 03:00")
    assert shift.end_at - shift.start_at == timedelta(hours=6)
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(shift.start_at - timedelta(hours=2))
    await compute_due(ctx)
    (two_hours,) = [m for m in await outbox(ctx, Kind.REMINDER) if "2h" in m.dedupe_key]
    assert local(two_hours.due_at, ctx) == "2026-10-24 20:00 CEST"
    clock.set(shift.end_at + timedelta(minutes=15))
    await compute_due(ctx)
    (report,) = await outbox(ctx, Kind.REPORT_PROMPT)
    assert local(report.due_at, ctx) == "2026-10-25 03:15 CET"


async def test_reminder_on_the_october_dst_night_waits_for_the_morning(
    ctx: Context, clock: ManualClock
) -> None:
    """Sunday 25 Oct 21:00 CET: 24 real hours before is Saturday 22:00 CEST, inside quiet
    hours, and the walk is not tonight: held until Sunday 08:00 CET."""
    clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-10-25 21:00", "2026-10-26 00:00")
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(shift.start_at - timedelta(hours=24))
    assert local(ctx.now(), ctx) == "2026-10-24 22:00 CEST"
    await compute_due(ctx)
    (reminder,) = await outbox(ctx, Kind.REMINDER)
    assert local(reminder.due_at, ctx) == "2026-10-25 08:00 CET"


async def test_march_dst_night_keeps_real_durations(ctx: Context, clock: ManualClock) -> None:
    """22:00-04:00 on 27/28 Mar 2027 (clocks go forward at 02:00): five real hours; check-in
    at 22:00 CET, report prompt at 04:15 CEST, safety alert at 04:30 CEST."""
    clock.set(datetime(2027, 3, 24, 12, 0, tzinfo=UTC))
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2027-03-27 22:00", "2027-03-28 04:00")
    assert shift.end_at - shift.start_at == timedelta(hours=5)
    walker = world.walkers[0].id or 0
    await signups.sign_up(ctx, walker, shift.id or 0)
    clock.set(shift.start_at)
    await compute_due(ctx)
    await signups.check_in(ctx, walker, shift.id or 0)
    (check_in,) = await outbox(ctx, Kind.CHECK_IN_PROMPT)
    assert local(check_in.due_at, ctx) == "2027-03-27 22:00 CET"
    clock.set(shift.end_at + timedelta(minutes=30))
    await compute_due(ctx)
    (report,) = await outbox(ctx, Kind.REPORT_PROMPT)
    assert local(report.due_at, ctx) == "2027-03-28 04:15 CEST"
    alerts = await outbox(ctx, Kind.SAFETY_ALERT)
    assert {local(m.due_at, ctx) for m in alerts} == {"2027-03-28 04:30 CEST"}
    assert {m.person_id for m in alerts} == world.managers


async def test_quiet_hours_hold_non_urgent_messages_unless_the_walk_comes_first(
    ctx: Context, clock: ManualClock
) -> None:
    """A 2h reminder at 23:00 for a 01:00 walk goes at once; a 24h reminder at 23:30 for
    tomorrow's 23:30 walk waits until 08:00."""
    world = await make_world(ctx, walkers=2)
    tonight = await shift_at(ctx, world, "2026-11-28 01:00", "2026-11-28 04:00")
    tomorrow = await shift_at(ctx, world, "2026-11-28 23:30", "2026-11-29 03:00")
    await signups.sign_up(ctx, world.walkers[0].id or 0, tonight.id or 0)
    await signups.sign_up(ctx, world.walkers[1].id or 0, tomorrow.id or 0)
    clock.set(tonight.start_at - timedelta(hours=2))
    await compute_due(ctx)
    (soon,) = [m for m in await outbox(ctx, Kind.REMINDER) if "2h" in m.dedupe_key]
    assert local(soon.due_at, ctx) == "2026-11-27 23:00 CET"
    clock.set(tomorrow.start_at - timedelta(hours=24))
    await compute_due(ctx)
    (held,) = [m for m in await outbox(ctx, Kind.REMINDER) if m.payload["shift_id"] == tomorrow.id]
    assert local(held.due_at, ctx) == "2026-11-28 08:00 CET"


async def test_a_tick_twice_queues_nothing_new(ctx: Context, clock: ManualClock) -> None:
    """Every rule is idempotent: a second tick at the same moment adds no row."""
    world = await make_world(ctx, walkers=3)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", min_walkers=3)
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    for moment in (
        shift.start_at - timedelta(hours=48),
        shift.start_at - timedelta(hours=3),
        shift.start_at,
        shift.end_at + timedelta(hours=1),
    ):
        clock.set(moment)
        if moment == shift.start_at:
            await signups.check_in(ctx, world.walkers[0].id or 0, shift.id or 0)
        first = await compute_due(ctx)
        assert sum(first.values()) > 0, moment
        before = len(await outbox(ctx))
        second = await compute_due(ctx)
        assert all(count == 0 for count in second.values()), second
        assert len(await outbox(ctx)) == before
    expired = await outbox(ctx, status=OutboxStatus.EXPIRED)
    assert [m.dedupe_key for m in expired] == ["reminder:2h:signup:1"]  # the clock jumped past it
