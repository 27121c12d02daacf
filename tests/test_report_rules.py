"""The post-walk report's rules that protect what was reported: "nothing happened" never
overwrites a submitted report, a correction closes 24 hours after submission however long its
flow stays open (found by the second review)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.dialogue.engine import Dialogue
from models.tables import Report, Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.walks import reports, signups
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
