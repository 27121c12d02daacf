"""The tick's reminder rule reads only the shifts it still has work for (issue 19: the tick
over 100,000 shifts ahead): a shift whose reminder moment is ``SETTLED`` past is marked done
with its reminders, and its walkers are not read again; the window's edge loses nobody."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages import due
from scheduling.messages.due import SETTLED, DueError, compute_due
from scheduling.messages.due_planning import walkers_without
from scheduling.messages.kinds import Kind
from scheduling.walks import signups
from scheduling.walks.editing import ShiftChange, edit_shift
from tests.helpers import OPERATOR
from tests.world import make_world, outbox, shift_at

DAY = timedelta(hours=24)


async def reminder_keys(ctx: Context) -> list[str]:
    return sorted(m.dedupe_key for m in await outbox(ctx, Kind.REMINDER))


async def test_a_sign_up_confirmed_before_the_moment_but_seen_after_a_tick_is_reminded(
    ctx: Context, clock: ManualClock
) -> None:
    """A sign-up confirmed a minute before the 24h moment, in a transaction still open when a
    tick ran a minute after the moment, is reminded by the next tick: a shift is marked done
    only once its moment is SETTLED past, not at the first tick after it."""
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    first, late = world.walkers
    moment = shift.start_at - DAY
    clock.set(moment - timedelta(minutes=5))
    await signups.sign_up(ctx, first.id or 0, shift.id or 0)
    clock.set(moment + timedelta(minutes=1))
    assert (await compute_due(ctx))["reminders"] == 1
    clock.set(moment - timedelta(minutes=1))  # what the late transaction wrote: confirmed then
    await signups.sign_up(ctx, late.id or 0, shift.id or 0)
    clock.set(moment + timedelta(minutes=2))
    assert (await compute_due(ctx))["reminders"] == 1
    assert len(await reminder_keys(ctx)) == 2


async def test_walkers_of_a_settled_shift_are_not_read_again(
    ctx: Context, clock: ManualClock
) -> None:
    """A walker who signed up after the moment gets no reminder and has no outbox row: before,
    every tick read them again (and every walker reminded) for a day; now, once the moment is
    SETTLED past, the shift is marked done and the rule's statement no longer returns them."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    moment = shift.start_at - DAY
    clock.set(moment + timedelta(minutes=1))
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)  # after the moment
    window = {"starts_after": moment - DAY, "starts_until": shift.start_at, "revised": True}

    async def read(now: datetime, done: bool) -> int:
        clock.set(now)
        await compute_due(ctx)
        mark = "reminded:24h:shift:" if done else None
        async with ctx.store.transaction() as session:
            rows = await walkers_without(session, "reminder:24h:signup:", **window, done_mark=mark)
        return len(rows)

    assert await read(moment + SETTLED - timedelta(seconds=1), done=True) == 1  # not yet settled
    assert await read(moment + SETTLED, done=True) == 0  # marked done: not read again
    assert await read(moment + SETTLED + timedelta(minutes=1), done=False) == 1  # unmarked query
    assert await reminder_keys(ctx) == []


async def test_a_moved_shift_is_reminded_afresh_after_its_old_revision_was_marked(
    ctx: Context, clock: ManualClock
) -> None:
    """The due mark names the shift's revision: moved a day later after its 24h reminder (and
    its mark), the walker is reminded again at the new moment, under the new revision's key."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(shift.start_at - DAY + SETTLED + timedelta(minutes=5))
    assert (await compute_due(ctx))["reminders"] == 1
    change = ShiftChange(start=datetime(2026, 11, 28, 21, 0), end=datetime(2026, 11, 29, 1, 0))
    moved = await edit_shift(ctx, OPERATOR, shift.id or 0, change)
    assert moved.moves == 1
    clock.set(moved.start_at - DAY + SETTLED + timedelta(minutes=5))
    assert (await compute_due(ctx))["reminders"] == 1
    assert await reminder_keys(ctx) == ["reminder:24h:signup:1", "reminder:24h:signup:1:r1"]


async def test_a_shifts_done_mark_is_written_with_its_reminders_or_not_at_all(
    ctx: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tick SETTLED past the moment plans a reminder and marks the shift done: when writing
    the reminders fails, the mark is not kept either, and the next tick reminds the walker.
    (The mark goes alone, without a transaction, only when its entry planned nothing:
    ``mark_done(alone=)``.)"""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    clock.set(shift.start_at - DAY - timedelta(minutes=5))
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(shift.start_at - DAY + SETTLED)

    async def fails(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("the outbox could not be written")

    with monkeypatch.context() as patch:
        patch.setattr(due, "enqueue_many", fails)
        with ctx.store.begin_at_first_write(), pytest.raises(DueError):
            await compute_due(ctx)
    with ctx.store.begin_at_first_write():
        assert (await compute_due(ctx))["reminders"] == 1
    assert len(await reminder_keys(ctx)) == 1
