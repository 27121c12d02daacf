"""Understaffed shifts: calls for walkers to free volunteers, notices, the final check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from models.tables import AuditEntry, Role, Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import PermissionDenied
from scheduling.messages.due import RULES, compute_due
from scheduling.messages.kinds import Kind
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import signups
from scheduling.walks.staffing import go_ahead
from tests.helpers import OPERATOR
from tests.world import World, local, make_world, outbox, person, shift_at


async def busy_world(ctx: Context) -> tuple[World, Shift]:
    """Walkers 0-3 of IFK; walker 1 signed up on the shift, walker 2 busy on an overlapping
    shift elsewhere, walker 3 on a shift that ends before; a member of another organisation and
    that organisation's lead."""
    world = await make_world(ctx, walkers=4)
    other_org = await directory.add_organisation(ctx, OPERATOR, "Trygga vuxna")
    outsider = await person(ctx, "Outsider", org=other_org.id, telegram_id=5000)
    other_lead = await person(ctx, "Other lead", org=other_org.id, role=Role.LEAD, telegram_id=5001)
    other_area = await directory.add_area(ctx, OPERATOR, "Kvarnholmen")
    shift = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00", min_walkers=3)
    overlapping = await shift_at(
        ctx, world, "2026-11-28 23:00", "2026-11-29 02:00", area=other_area.id
    )
    earlier = await shift_at(ctx, world, "2026-11-28 17:00", "2026-11-28 21:00")
    await signups.sign_up(ctx, world.walkers[1].id or 0, shift.id or 0)
    await signups.sign_up(ctx, world.walkers[2].id or 0, overlapping.id or 0)
    await signups.sign_up(ctx, world.walkers[3].id or 0, earlier.id or 0)
    assert outsider.id and other_lead.id
    return world, shift


async def test_call_for_walkers_goes_to_free_volunteers_of_the_organisation(
    ctx: Context, clock: ManualClock
) -> None:
    """48h before an understaffed shift: free volunteers of the org are called; the signed-up,
    the busy and other organisations are not; the lead and coordinator get a notice."""
    world, the_shift = await busy_world(ctx)
    shift, start = the_shift.id, the_shift.start_at
    clock.set(start - timedelta(hours=48))
    await compute_due(ctx)
    calls = [m for m in await outbox(ctx, Kind.CALL_FOR_WALKERS) if m.payload["shift_id"] == shift]
    assert {m.person_id for m in calls} == {world.walkers[0].id, world.walkers[3].id}
    assert {m.dedupe_key.split(":person:")[0] for m in calls} == {f"staffing:48h:shift:{shift}"}
    assert all(m.expires_at == start for m in calls)
    notices = [m for m in await outbox(ctx, Kind.STAFFING_NOTICE) if m.payload["shift_id"] == shift]
    assert {m.person_id for m in notices} == world.managers
    assert notices[0].payload["confirmed"] == 1 and notices[0].payload["called"] == 2


async def test_a_second_round_at_24h_and_none_once_staffed(
    ctx: Context, clock: ManualClock
) -> None:
    """Still understaffed at 24h: a second call; a shift staffed by then gets none."""
    world = await make_world(ctx, walkers=5)
    short = await shift_at(ctx, world, "2026-11-28 19:00", "2026-11-28 23:00", min_walkers=2)
    fixed = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00", min_walkers=1)
    clock.set(short.start_at - timedelta(hours=48))
    await compute_due(ctx)
    clock.set(fixed.start_at - timedelta(hours=48))
    await compute_due(ctx)
    await signups.sign_up(ctx, world.lead.id or 0, fixed.id or 0)  # trained, enough alone
    clock.set(fixed.start_at - timedelta(hours=24))
    await compute_due(ctx)
    keys = {m.dedupe_key.split(":person:")[0] for m in await outbox(ctx, Kind.CALL_FOR_WALKERS)}
    assert keys == {
        f"staffing:48h:shift:{short.id}",
        f"staffing:24h:shift:{short.id}",
        f"staffing:48h:shift:{fixed.id}",
    }


async def test_after_an_outage_only_the_latest_call_goes_out(
    ctx: Context, clock: ManualClock
) -> None:
    """Both alert moments passed while down (or before the shift was made): one call, the 24h."""
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", min_walkers=3)
    clock.set(shift.start_at - timedelta(hours=10))
    await compute_due(ctx)
    calls = await outbox(ctx, Kind.CALL_FOR_WALKERS)
    assert len(calls) == 2
    assert {m.dedupe_key.split(":person:")[0] for m in calls} == {f"staffing:24h:shift:{shift.id}"}


async def test_calls_for_walkers_wait_for_the_morning(ctx: Context, clock: ManualClock) -> None:
    """The 48h moment of a 23:00 shift falls in quiet hours: calls and notices wait till 08:00."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-28 23:00", "2026-11-29 03:00", min_walkers=3)
    clock.set(shift.start_at - timedelta(hours=48))
    await compute_due(ctx)
    held = await outbox(ctx, Kind.CALL_FOR_WALKERS) + await outbox(ctx, Kind.STAFFING_NOTICE)
    assert len(held) == 3
    assert {local(m.due_at, ctx) for m in held} == {"2026-11-27 08:00 CET"}


async def test_final_check_asks_lead_and_coordinator_to_go_ahead_or_cancel(
    ctx: Context, clock: ManualClock
) -> None:
    """3h before, still understaffed: the lead and the coordinator are asked, once."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", min_walkers=3)
    clock.set(shift.start_at - timedelta(hours=3, seconds=1))
    await compute_due(ctx)
    assert await outbox(ctx, Kind.FINAL_CHECK) == []
    clock.set(shift.start_at - timedelta(hours=3))
    await compute_due(ctx)
    await compute_due(ctx)
    checks = await outbox(ctx, Kind.FINAL_CHECK)
    assert {m.person_id for m in checks} == world.managers
    assert {local(m.due_at, ctx) for m in checks} == {"2026-11-27 18:00 CET"}


async def test_cancelling_after_the_final_check_tells_everyone_signed_up(
    ctx: Context, clock: ManualClock
) -> None:
    """The lead cancels: everyone signed up is told, and no more reminders or prompts come."""
    from scheduling.walks.shifts import cancel_shift

    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", min_walkers=3)
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.start_at - timedelta(hours=3))
    await compute_due(ctx)
    await cancel_shift(ctx, Actor.of(world.lead, "telegram"), shift.id or 0, "För få vandrare")
    told = await outbox(ctx, Kind.SHIFT_CANCELLED)
    assert {m.person_id for m in told} == {w.id for w in world.walkers}
    clock.set(shift.start_at)
    await compute_due(ctx)
    assert await outbox(ctx, Kind.CHECK_IN_PROMPT) == []


async def test_going_ahead_is_for_the_lead_or_coordinator_and_audited(ctx: Context) -> None:
    """A volunteer may not answer the final check; the lead may, and it is audited."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", min_walkers=3)
    with pytest.raises(PermissionDenied):
        await go_ahead(ctx, Actor.of(world.walkers[0], "telegram"), shift.id or 0)
    await go_ahead(ctx, Actor.of(world.lead, "telegram"), shift.id or 0)
    async with ctx.store.sessions() as session:
        actions = (await session.exec(select(AuditEntry.action, AuditEntry.outcome))).all()
    assert ("shifts.go_ahead", "ok") in actions and ("shifts.go_ahead", "refused") in actions


async def test_many_calls_at_once_go_one_shift_per_transaction(
    ctx: Context, clock: ManualClock
) -> None:
    """After a long stop many understaffed shifts are due at once: each shift's calls are
    written in a transaction of their own (so the event loop, and the store's one writer on
    SQLite, are free between shifts instead of held for all of them: bench/README.md), all
    of them, soonest shift first, and a second tick adds none."""
    world = await make_world(ctx, walkers=3)
    shifts = [
        await shift_at(ctx, world, f"2026-11-28 {10 + n}:00", f"2026-11-28 {11 + n}:00")
        for n in range(12)
    ]
    clock.set(shifts[-1].start_at - timedelta(hours=40))
    commits = 0

    def count(*_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(ctx.store.engine.sync_engine, "commit", count)
    try:
        added = await compute_due(ctx)
    finally:
        event.remove(ctx.store.engine.sync_engine, "commit", count)
    assert added["staffing_alerts"] == len(shifts) * (3 + len(world.managers))
    assert commits >= len(RULES) + len(shifts), "the shifts' calls shared a transaction"
    calls = sorted(await outbox(ctx, Kind.CALL_FOR_WALKERS), key=lambda m: m.id or 0)
    assert {m.payload["shift_id"] for m in calls} == {s.id for s in shifts}
    assert calls[0].payload["shift_id"] == shifts[0].id
    assert (await compute_due(ctx))["staffing_alerts"] == 0


async def test_enough_walkers_but_none_trained_is_understaffed(
    ctx: Context, clock: ManualClock
) -> None:
    """The statement chooses the understaffed shifts (``staffed_shifts(understaffed_for=)``):
    one with its minimum of walkers but no trained walker among them is called for, and the
    final check asks about it; once a trained walker joins, a later call does not go."""
    world = await make_world(ctx, walkers=4)
    short = await shift_at(ctx, world, "2026-11-28 19:00", "2026-11-28 23:00", min_walkers=2)
    for walker in world.walkers[:2]:  # untrained
        await signups.sign_up(ctx, walker.id or 0, short.id or 0)
    clock.set(short.start_at - timedelta(hours=48))
    await compute_due(ctx)
    keys = {m.dedupe_key.split(":person:")[0] for m in await outbox(ctx, Kind.CALL_FOR_WALKERS)}
    assert keys == {f"staffing:48h:shift:{short.id}"}
    await signups.sign_up(ctx, world.lead.id or 0, short.id or 0)  # trained
    clock.set(short.start_at - timedelta(hours=24))
    await compute_due(ctx)
    keys = {m.dedupe_key.split(":person:")[0] for m in await outbox(ctx, Kind.CALL_FOR_WALKERS)}
    assert keys == {f"staffing:48h:shift:{short.id}"}  # no 24h call: staffed now
    unstaffed = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00", min_walkers=2)
    for walker in world.walkers[2:]:
        await signups.sign_up(ctx, walker.id or 0, unstaffed.id or 0)
    final = ctx.settings.reminders.staffing_final_check_before
    clock.set(unstaffed.start_at - final)
    await compute_due(ctx)
    checks = {m.payload["shift_id"] for m in await outbox(ctx, Kind.FINAL_CHECK)}
    assert checks == {unstaffed.id}
