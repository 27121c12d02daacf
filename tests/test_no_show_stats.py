"""No-show rates: counted in the statistics (overall and per organisation, from the tallies),
shown in chat, on the dashboard and in the stats export."""

from __future__ import annotations

from datetime import timedelta

from evaluation import statistics as stats
from evaluation.exports.stats import STATS_COLUMNS, stats_row
from models.tables import Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import signups
from scheduling.walks.attendance import record_attendance
from tests.helpers import OPERATOR, add_people, add_shift, seed_org_area


async def walked(ctx: Context, clock: ManualClock) -> tuple[int, int]:
    """IFK: 3 signed up, 1 absent; Röda Korset: 2 signed up, both came; a later walk with one
    sign-up that is not over yet (not counted). The organisations' ids."""
    ifk, area = await seed_org_area(ctx)
    rk = (await directory.add_organisation(ctx, OPERATOR, "Röda Korset")).id or 0
    (lead,) = await add_people(ctx, 1, org=ifk, role=Role.LEAD, prefix="Lead")
    first = await add_shift(ctx, ifk, area, start_in=timedelta(days=1))
    second = await add_shift(ctx, rk, area, start_in=timedelta(days=1, hours=5))
    later = await add_shift(ctx, ifk, area, start_in=timedelta(days=5))
    a, b, c = await add_people(ctx, 3, org=ifk)
    d, e = await add_people(ctx, 2, org=rk, prefix="Rk")
    for person, shift in ((a, first), (b, first), (c, first), (d, second), (e, second),
                          (a, later)):
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    clock.set(second.end_at + timedelta(hours=1))
    await record_attendance(ctx, Actor.of(lead, "telegram"), first.id or 0, [a.id, b.id])
    await record_attendance(ctx, Actor.operator(), second.id or 0, [d.id, e.id])
    return ifk, rk


async def test_no_show_rates_overall_and_per_organisation(
    ctx: Context, clock: ManualClock
) -> None:
    await walked(ctx, clock)
    today = ctx.now().astimezone(ctx.zone).date()
    report = await stats.statistics_for(ctx, today - timedelta(days=3), today + timedelta(days=9))
    assert (report.overall.no_shows, report.overall.expected_walkers) == (1, 5)
    assert report.overall.no_show_rate == 0.2
    by_org = {name: (s.no_shows, s.expected_walkers) for name, s in report.by_organisation}
    assert by_org == {"IFK Kalmar": (1, 3), "Röda Korset": (0, 2)}
    header = [c.key for c in STATS_COLUMNS]
    row = dict(zip(header, stats_row("org", "IFK Kalmar", report.by_organisation[0][1]),
                   strict=True))
    assert (row["no_shows"], row["no_show_rate"]) == (1, 33.3)


async def test_the_coordinators_stats_in_chat_name_the_no_shows(
    ctx: Context, clock: ManualClock
) -> None:
    from bot.dialogue.engine import Dialogue
    from tests.fakes.chat import Chat

    await walked(ctx, clock)
    boss = await directory.add_person(ctx, OPERATOR, name="Maria", telegram_id=777,
                                      role=Role.COORDINATOR)
    await directory.record_consent(ctx, boss.id or 0)
    chat = Chat(Dialogue(ctx), address="777", telegram_id=777)
    today = ctx.now().astimezone(ctx.zone).date()
    text = await chat.command("stats", f"{today - timedelta(days=3)} {today}")
    assert "Uteblivna totalt: 1 av 5 anmälda (20 %)" in text
    assert "Uteblivna IFK Kalmar: 1 av 3 anmälda (33 %)" in text
