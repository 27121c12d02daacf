"""The smaller fixes of the walker's life cycle, each pinned."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.i18n import catalogue
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.common.masking import PERSONNUMMER, mask_report_text
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.messages.relevance import stale_reason
from scheduling.walks import signups
from tests.world import make_world, outbox, shift_at


async def test_no_check_in_prompt_to_a_walker_already_checked_in(
    ctx: Context, clock: ManualClock
) -> None:
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    early, late = world.walkers
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.start_at - timedelta(minutes=20))
    await signups.check_in(ctx, early.id or 0, shift.id or 0)
    clock.set(shift.start_at)
    await compute_due(ctx)
    prompts = {m.person_id: m for m in await outbox(ctx, Kind.CHECK_IN_PROMPT)}
    async with ctx.store.transaction() as session:
        assert await stale_reason(session, prompts[early.id], clock.now(), 1) == (
            "checked in already"
        )
        assert await stale_reason(session, prompts[late.id], clock.now(), 1) is None


async def test_check_out_is_refused_before_the_start(ctx: Context, clock: ManualClock) -> None:
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    (walker,) = world.walkers
    await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.start_at - timedelta(minutes=30))
    await signups.check_in(ctx, walker.id or 0, shift.id or 0)
    with pytest.raises(DomainError) as refused:
        await signups.check_out(ctx, walker.id or 0, shift.id or 0)
    assert refused.value.code == "check_out_too_early"
    clock.set(shift.start_at + timedelta(hours=1))
    assert (await signups.check_out(ctx, walker.id or 0, shift.id or 0))[1]


@pytest.mark.parametrize(
    "text", ["Han heter 811218-9874.", "Nr 19811218-9874 i anteckningen", "811218+9874"]
)
def test_a_personnummer_with_a_wrong_check_digit_is_still_masked(text: str) -> None:
    result = mask_report_text(text)
    assert "9874" not in result.text and result.masked == [PERSONNUMMER]


def test_the_check_in_words_ask_walkers_to_look_after_each_other() -> None:
    swedish = catalogue("sv")["checkin.done"]
    assert "Håll ihop gruppen och ta hand om varandra" in swedish
    assert "lugnt" not in swedish
    assert "look after each other" in catalogue("en")["checkin.done"]


async def test_a_fold_later_shift_keeps_its_hour_in_the_calendar(ctx: Context) -> None:
    """02:30 the second time round (the night the clocks go back) is not shown an hour early:
    calendars read an ambiguous TZID time as the first, so it is written in UTC."""
    from datetime import UTC, datetime

    from icalendar import Calendar

    from bot.i18n import t
    from scheduling.links import calendar
    from scheduling.people.access import Actor
    from scheduling.walks import shifts
    from tests.helpers import seed_org_area

    org, area = await seed_org_area(ctx)
    spec = shifts.ShiftSpec(
        organisation=org,
        area=area,
        start=datetime(2027, 10, 31, 2, 30),
        end=datetime(2027, 10, 31, 5, 0),
        fold="later",
    )
    (shift,) = await shifts.create_shifts(ctx, Actor.operator(), spec)
    url = await calendar.feed_url_for_organisation(ctx, org)
    feed = await calendar.feed_for_token(ctx, url.rsplit("/", 1)[-1].removesuffix(".ics"))
    assert feed is not None
    ics = calendar.render_ics(feed, lambda key, /, **p: t("sv", key, **p), ctx)
    assert b"DTSTART:20271031T013000Z" in ics
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(UTC) == shift.start_at


def test_every_report_code_has_words_for_the_dashboard_charts_and_exports() -> None:
    """No code such as "guards" or "glass_litter" reaches the coordinator untranslated."""
    from scheduling.walks.reports import HELP_KINDS, PLACE_ISSUES, SERVICES

    for language in ("sv", "en"):
        texts = catalogue(language)
        for section, codes in (
            ("service", SERVICES),
            ("place", PLACE_ISSUES),
            ("help", HELP_KINDS),
        ):
            for code in codes:
                assert f"coordinator.{section}.{code}" in texts, (language, section, code)


def test_counts_read_right_for_one() -> None:
    """No "1 lediga vandrare", "1 anmälningar" or "1 pass skapade"."""
    from bot.i18n import t

    one = {
        t("sv", "notify.staffing_notice", called=1),
        t("sv", "privacy.my_data_summary", signups=1, upcoming=1, reports=1, messages=1),
        t("sv", "newshift.created", count=1, ids="12"),
        t("sv", "replace.asked", count=1, id=12),
    }
    for text in one:
        for wrong in ("1 lediga", "1 anmälningar", "1 pass skapade", "1 rapporter"):
            assert wrong not in text, text


async def test_the_demos_dashboard_link_lasts_long_enough_to_open(
    ctx: Context, clock: ManualClock
) -> None:
    """The demo's link still works hours later; an ordinary one still lapses at 15 minutes,
    and no link lasts beyond 24 hours."""
    from bot.demo.coordinator import DEMO_LINK_LIFETIME
    from models.tables import Role
    from scheduling.links import logins
    from scheduling.people.access import Actor
    from tests.helpers import add_people

    (person,) = await add_people(ctx, 1, role=Role.COORDINATOR)
    actor = Actor.of(person, "cli")
    demo = await logins.issue_dashboard_link(ctx, actor, DEMO_LINK_LIFETIME)
    ordinary = await logins.issue_dashboard_link(ctx, actor)
    endless = await logins.issue_dashboard_link(ctx, actor, timedelta(days=30))
    clock.advance(timedelta(hours=3))
    assert (await logins.redeem_login(ctx, demo.rsplit("/", 1)[1])).id == person.id
    with pytest.raises(DomainError):
        await logins.redeem_login(ctx, ordinary.rsplit("/", 1)[1])
    clock.advance(timedelta(hours=21, seconds=1))
    with pytest.raises(DomainError):
        await logins.redeem_login(ctx, endless.rsplit("/", 1)[1])
