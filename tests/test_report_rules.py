"""The post-walk report's rules that protect what was reported: "nothing happened" never
overwrites a submitted report, a correction closes 24 hours after submission however long its
flow stays open, and a walker marked absent does not report (found by the second review)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.dialogue.engine import Dialogue
from evaluation.payments import disqualifications
from evaluation.walk_facts import load_walks
from models.tables import Report, Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.people.access import Actor
from scheduling.walks import reports, signups
from scheduling.walks.attendance import record_attendance
from tests.fakes.chat import Chat
from tests.world import World, make_world, shift_at

SERIOUS = (
    ("walkers_present", 3),
    ("mood", "unruly"),
    ("help_given", ["first_aid"]),
    ("services_contacted", ["112"]),
    ("follow_up", True),
)


async def signed_up(ctx: Context, walkers: int = 3, min_walkers: int = 1) -> tuple[World, Shift]:
    """A night walk with every walker of the world confirmed on it."""
    world = await make_world(ctx, walkers=walkers)
    shift = await shift_at(
        ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", min_walkers=min_walkers
    )
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    return world, shift


async def serious_report(ctx: Context, world: World, shift: Shift) -> Report:
    """The first walker's submitted report of a knife threat: 112 called, first aid given."""
    me = world.walkers[0].id or 0
    report = await reports.open_report(ctx, me, shift.id or 0)
    for field, value in SERIOUS:
        await reports.answer(ctx, report.id or 0, me, field, value)
    return (await reports.submit(ctx, report.id or 0, me, "Knivhot vid Larmtorget")).report


async def stored(ctx: Context, report_id: int | None) -> Report:
    async with ctx.store.transaction() as session:
        row = await session.get(Report, report_id)
    assert row is not None
    return row


def chat_of(ctx: Context, world: World, n: int = 0) -> Chat:
    walker = world.walkers[n]
    return Chat(Dialogue(ctx), address=str(walker.telegram_id), telegram_id=walker.telegram_id)


def unchanged(row: Report) -> bool:
    return (
        row.mood == "unruly"
        and row.services_contacted == ["112"]
        and row.help_given == ["first_aid"]
        and row.follow_up is True
        and row.nothing_happened is False
        and row.summary == "Knivhot vid Larmtorget"
    )


async def test_nothing_happened_never_overwrites_a_submitted_report(
    ctx: Context, clock: ManualClock
) -> None:
    """Correcting a submitted report offers no "Inget särskilt hände" (the check-out reply's
    "Skriv rapport" leads there), and the action sent anyway (an old button, a typed number)
    is refused with a text that names the way to correct: the incidents stay."""
    world, shift = await signed_up(ctx)
    clock.set(shift.end_at - timedelta(minutes=10))
    report = await serious_report(ctx, world, shift)
    clock.set(shift.end_at + timedelta(minutes=30))
    chat = chat_of(ctx, world)
    intro = await chat.act(f"report:{shift.id}")
    assert "rätta" in intro
    assert not any("Inget" in label for label in chat.labels)
    assert any("Fyll i" in label for label in chat.labels)
    refused = await chat.act("rep:nothing")
    assert "redan inskickad" in refused and "Fyll i rapporten" in refused
    assert unchanged(await stored(ctx, report.id))
    with pytest.raises(DomainError) as raised:
        await reports.submit(ctx, report.id or 0, world.walkers[0].id or 0, None,
                             nothing_happened=True)
    assert raised.value.code == "report_nothing_after_submit"
    assert unchanged(await stored(ctx, report.id))
    # a correction still works, and a draft still offers the one tap
    await chat.act(f"report:{shift.id}")
    await chat.tap("Fyll i")
    await chat.act("rep:walkers_present:2")
    assert (await stored(ctx, report.id)).walkers_present == 2
    other = chat_of(ctx, world, 1)
    await other.act(f"report:{shift.id}")
    assert "tack" in (await other.tap("Inget särskilt hände")).lower()


async def test_a_correction_closes_24_hours_after_submission(
    ctx: Context, clock: ManualClock
) -> None:
    """A correction opened at hour 23 and answered ten days later is refused with a clear
    text, changes nothing, and leaves the flow; the core refuses both answer and submit."""
    world, shift = await signed_up(ctx)
    clock.set(shift.end_at)
    report = await serious_report(ctx, world, shift)
    me = world.walkers[0].id or 0
    clock.set(shift.end_at + timedelta(hours=23))
    chat = chat_of(ctx, world)
    await chat.command("report", str(shift.id))
    await chat.tap("Fyll i")
    await chat.act("rep:walkers_present:4")  # within the 24 hours: corrected
    assert (await stored(ctx, report.id)).walkers_present == 4
    clock.set(shift.end_at + timedelta(days=10))
    refused = await chat.act("rep:youth_met:50+")
    assert "Tiden för att rätta" in refused and "sparades inte" in refused
    assert (await stored(ctx, report.id)).youth_met is None
    assert "Den knappen gäller inte längre" in await chat.act("rep:youth_met:0")  # flow left
    for call in (
        reports.answer(ctx, report.id or 0, me, "mood", "calm"),
        reports.submit(ctx, report.id or 0, me, "Allt lugnt"),
    ):
        with pytest.raises(DomainError) as raised:
            await call
        assert raised.value.code == "report_correction_closed"
    row = await stored(ctx, report.id)
    assert unchanged(row) and row.walkers_present == 4


async def test_a_walker_marked_absent_cannot_report(ctx: Context, clock: ManualClock) -> None:
    """Nobody checked in and the lead marked everyone absent: a report (one tap or a draft
    opened before the marking) is refused, so the walk is neither held nor paid."""
    world, shift = await signed_up(ctx, walkers=4, min_walkers=3)
    clock.set(shift.end_at)
    early = await reports.open_report(ctx, world.walkers[1].id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(hours=8))  # the morning
    lead = Actor.of(world.lead, "telegram")
    assert await record_attendance(ctx, lead, shift.id or 0, []) == (0, 4)
    with pytest.raises(DomainError) as raised:
        await reports.open_report(ctx, world.walkers[0].id or 0, shift.id or 0)
    assert raised.value.code == "report_no_show"
    with pytest.raises(DomainError) as raised:
        await reports.submit(ctx, early.id or 0, world.walkers[1].id or 0, None,
                             nothing_happened=True)
    assert raised.value.code == "report_no_show"
    refused = await chat_of(ctx, world, 2).command("report", str(shift.id))
    assert "frånvarande" in refused and "/" not in refused
    walk = (await load_walks(ctx, date(2026, 11, 27), date(2026, 11, 27)))[0]
    assert not walk.held and disqualifications(walk) != ()


@pytest.mark.parametrize(
    ("checked_in", "present", "expected"),
    [
        (2, None, 2),  # check-ins: those who checked in
        (0, 1, 1),  # no check-in, the lead marked one of four present: one
        (0, None, 4),  # nobody used check-in nor "Vilka var med?": the confirmed, the only figure
    ],
)
async def test_nothing_happened_counts_those_who_came(
    ctx: Context, clock: ManualClock, checked_in: int, present: int | None, expected: int
) -> None:
    """The one tap fills "walkers present" with who came, not with every confirmed sign-up."""
    world, shift = await signed_up(ctx, walkers=4, min_walkers=3)
    clock.set(shift.start_at)
    for walker in world.walkers[:checked_in]:
        await signups.check_in(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(hours=8))
    if present is not None:
        came = [w.id or 0 for w in world.walkers[:present]]
        await record_attendance(ctx, Actor.of(world.lead, "telegram"), shift.id or 0, came)
    me = world.walkers[0].id or 0
    report = await reports.open_report(ctx, me, shift.id or 0)
    done = await reports.submit(ctx, report.id or 0, me, None, nothing_happened=True)
    assert done.report.walkers_present == expected
    walk = (await load_walks(ctx, date(2026, 11, 27), date(2026, 11, 27)))[0]
    assert walk.held and walk.walkers_present == expected
    assert (disqualifications(walk) == ()) == (expected >= 3)
