"""A person's no-show count (``Person.no_show_count``, shown on the walker card and in the
people export) is the number of their sign-ups marked absent, after every kind of change:
marked absent, "Vilka var med?" either way, a late check-in, a merge by phone number (found by
the second review: a late check-in cleared the mark but kept the count)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from models.tables import Person, Signup
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.people.access import Actor
from scheduling.walks import signups
from scheduling.walks.attendance import record_attendance
from scheduling.walks.phone_linking import link_phone
from tests.world import make_world, person, shift_at


async def counts(ctx: Context) -> dict[int, tuple[int, int]]:
    """Per person: (no_show_count, sign-ups marked absent)."""
    async with ctx.store.sessions() as session:
        people = (await session.exec(select(Person))).all()
        rows = (await session.exec(select(Signup))).all()
    return {
        p.id or 0: (p.no_show_count, sum(s.no_show for s in rows if s.person_id == p.id))
        for p in people
    }


async def assert_counts_follow_flags(ctx: Context, step: str) -> dict[int, int]:
    found = await counts(ctx)
    assert all(count == flags for count, flags in found.values()), (step, found)
    return {person_id: count for person_id, (count, _) in found.items()}


async def test_the_count_follows_the_flag(ctx: Context, clock: ManualClock) -> None:
    world = await make_world(ctx, walkers=3)
    late, kept, third = (w.id or 0 for w in world.walkers)
    first = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    second = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00")
    for shift in (first, second):
        for walker in (late, kept, third):
            await signups.sign_up(ctx, walker, shift.id or 0)
    lead = Actor.of(world.lead, "telegram")
    clock.set(first.start_at + timedelta(minutes=20))
    await record_attendance(ctx, lead, first.id or 0, [kept])
    assert (await assert_counts_follow_flags(ctx, "attendance"))[late] == 1
    await signups.check_in(ctx, late, first.id or 0)  # arrives after all
    assert (await assert_counts_follow_flags(ctx, "late check-in"))[late] == 0
    await record_attendance(ctx, lead, first.id or 0, [late, kept, third])
    assert (await assert_counts_follow_flags(ctx, "all present"))[third] == 0
    clock.set(second.start_at + timedelta(minutes=30))
    await signups.mark_no_show(ctx, lead, second.id or 0, late)
    await signups.mark_no_show(ctx, lead, second.id or 0, kept)
    assert (await assert_counts_follow_flags(ctx, "marked absent"))[late] == 1
    await signups.check_in(ctx, late, second.id or 0)
    await signups.check_in(ctx, late, second.id or 0)  # a second check-in changes nothing
    assert (await assert_counts_follow_flags(ctx, "late again"))[late] == 0
    await record_attendance(ctx, lead, second.id or 0, [late, third])
    assert (await assert_counts_follow_flags(ctx, "attendance again"))[kept] == 1


async def test_a_merge_by_phone_number_keeps_the_count(ctx: Context, clock: ManualClock) -> None:
    """An operator-filed record and the Telegram record of the same walker, each absent once,
    become one person absent twice."""
    world = await make_world(ctx, walkers=0)
    filed = await person(ctx, "Sara K", org=world.org, phone="0703333333")
    chat = await person(ctx, "Sara", org=world.org, telegram_id=5555)
    first = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    second = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00")
    await signups.sign_up(ctx, filed.id or 0, first.id or 0)
    await signups.sign_up(ctx, chat.id or 0, second.id or 0)
    clock.set(second.start_at + timedelta(minutes=30))
    lead = Actor.of(world.lead, "telegram")
    await signups.mark_no_show(ctx, lead, first.id or 0, filed.id or 0)
    await signups.mark_no_show(ctx, lead, second.id or 0, chat.id or 0)
    await assert_counts_follow_flags(ctx, "before the merge")
    merged = await link_phone(ctx, chat.id or 0, "+46703333333")
    assert merged.id == filed.id
    assert (await assert_counts_follow_flags(ctx, "merged"))[filed.id or 0] == 2
