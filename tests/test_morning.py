"""The morning picture: after a night with walks, at ``[evaluation] morning_summary_at``
local time, once per night (two ticks, a restart or a second worker never repeat it), one
message per partner and coordinator in each one's language, GSM-7 and SMS-sized by SMS, with
translated labels only and no personal data; and on the night the clocks go back."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from bot.channels.gsm7 import is_gsm7
from bot.morning_texts import SMS_MAX
from bot.notifications import NotificationRenderer
from evaluation.morning.night import due_night
from evaluation.morning.picture import queue_morning_picture
from models.db import Store
from models.tables import Person, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Recipient
from scheduling.messages.kinds import Kind
from scheduling.people.access import Actor
from scheduling.walks import reports, shifts, signups
from scheduling.walks.alarms import raise_alarm
from tests.followup_world import file_flagged_report, walked_night
from tests.helpers import OPERATOR
from tests.world import local, make_world, outbox, person, shift_at

CODES = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(mediation|mixed|unruly|calm|vandalism|112_)\b")
MORNING_UTC = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)  # 08:00 in Kalmar (winter time)


async def partners(ctx: Context) -> tuple[Person, Person]:
    """A police contact in Telegram (Swedish) and a youth worker by SMS (English)."""
    police = await person(ctx, "Polisen Kalmar", role=Role.PARTNER, telegram_id=9500)
    youth = await person(ctx, "Fritid Kalmar", role=Role.PARTNER, phone="0705550000",
                         language="en")
    return police, youth


async def busy_night(ctx: Context, clock: ManualClock) -> tuple[Person, Person]:
    """Friday's walk held (a flagged report with a place issue, an alarm), a second walk the
    same night cancelled; two partners."""
    night = await walked_night(ctx, clock)
    walker = night.world.walkers[1]
    clock.set(night.shift.start_at - timedelta(days=2))
    cancelled = await shift_at(ctx, night.world, "2026-11-27 22:00", "2026-11-28 02:00")
    await shifts.cancel_shift(ctx, OPERATOR, cancelled.id or 0)
    clock.set(night.shift.start_at + timedelta(hours=1))
    for w in night.world.walkers:
        await signups.check_in(ctx, w.id or 0, night.shift.id or 0)
    await raise_alarm(ctx, Actor.of(walker, "telegram"), "bråk vid stationen")
    clock.set(night.shift.end_at + timedelta(minutes=20))
    await file_flagged_report(ctx, night)
    return await partners(ctx)


async def render(ctx: Context, payload: dict[str, object], recipient: Recipient) -> str:
    return (await NotificationRenderer()(Kind.MORNING_PICTURE, payload, recipient, ctx)).text


async def test_the_picture_once_per_night_for_partners_and_coordinators(
    ctx: Context, clock: ManualClock
) -> None:
    """Not at 07:59; at 08:00 one message for each partner and the coordinator (not the lead,
    not walkers); a second tick and a second worker on the same database add nothing."""
    police, youth = await busy_night(ctx, clock)
    clock.set(MORNING_UTC - timedelta(minutes=1))
    assert await queue_morning_picture(ctx) == 0
    clock.set(MORNING_UTC)
    assert await queue_morning_picture(ctx) == 3
    assert await queue_morning_picture(ctx) == 0
    second = Store.open(ctx.settings.database.url)
    try:
        worker = Context(store=second, settings=ctx.settings, clock=clock)
        assert await queue_morning_picture(worker) == 0
    finally:
        await second.close()
    rows = await outbox(ctx, Kind.MORNING_PICTURE)
    coordinator = [r.person_id for r in rows if r.person_id not in (police.id, youth.id)]
    assert len(rows) == 3 and len(coordinator) == 1
    assert all(r.due_at == MORNING_UTC for r in rows)


async def test_what_the_picture_says_in_telegram_and_by_sms(
    ctx: Context, clock: ManualClock
) -> None:
    """The figures, translated labels only (no internal codes), no names, no numbers of
    anyone; by SMS GSM-7, at most two segments, no Telegram command; English for English."""
    await busy_night(ctx, clock)
    clock.set(MORNING_UTC)
    await queue_morning_picture(ctx)
    payload = (await outbox(ctx, Kind.MORNING_PICTURE))[0].payload
    swedish = await render(ctx, payload, Recipient(1, "sv", telegram_id=1))
    for expected in ("Lägesbild för natten fre 27/11",
                     "Pass: 2 planerade, 1 genomförda, 1 inställda", "Vandrare ute: 3",
                     "Unga mötta: cirka 5", "Baronen & Kalmar C blandad",
                     "medlade", "hjälpte någon hem", "Larm: 1", "Uppföljningar öppnade: 1",
                     "Flaggade platser: Kalmar C / stationen"):
        assert expected in swedish, swedish
    assert re.search(r"\((20–23|23–02)\)", swedish), swedish
    english = await render(ctx, payload, Recipient(2, "en", phone="+46705550000"))
    assert english.startswith("Morning picture, night of Fri 27/11"), english
    assert "Walks: 1 of 2 held, 1 cancelled" in english and "mixed" in english
    # never "Walks 2:", which by SMS reads as shift number 2
    assert not re.search(r"^(Walks|Pass) \d", english, re.M), english
    assert is_gsm7(english) and len(english) <= SMS_MAX and not re.search(r"/[a-z]", english)
    for text in (swedish, english):
        assert "Walker 0" not in text and "Maria" not in text and "Lena" not in text
        assert "9876" not in text and "070" not in text and "bråk" not in text
    assert not CODES.search(swedish), CODES.search(swedish)
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", english)


async def test_no_walks_no_picture_and_none_a_day_late(ctx: Context, clock: ManualClock) -> None:
    """A night without shifts sends nothing; a picture not sent by 20:00 is not sent."""
    world = await make_world(ctx, walkers=1)
    await partners(ctx)
    clock.set(MORNING_UTC - timedelta(days=7))
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(MORNING_UTC - timedelta(days=7))  # the night before: no shifts
    assert await queue_morning_picture(ctx) == 0
    clock.set(MORNING_UTC + timedelta(hours=12, minutes=1))
    assert await queue_morning_picture(ctx) == 0
    clock.set(MORNING_UTC + timedelta(hours=11))
    assert await queue_morning_picture(ctx) == 3  # two partners and the coordinator


async def test_the_night_the_clocks_go_back(ctx: Context, clock: ManualClock) -> None:
    """Saturday 24/10 22:00 to Sunday 03:00 (an hour longer: 02-03 twice). The picture comes
    at 08:00 winter time (07:00 UTC), not at 08:00 summer time; the walk's incidents sit in
    the 23-02 band; in spring the picture comes at 08:00 summer time (06:00 UTC)."""
    world = await make_world(ctx, walkers=2)
    await partners(ctx)
    clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    shift = await shift_at(ctx, world, "2026-10-24 22:00", "2026-10-25 03:00")
    walker = world.walkers[0].id or 0
    await signups.sign_up(ctx, walker, shift.id or 0)
    assert shift.end_at - shift.start_at == timedelta(hours=6)
    clock.set(shift.end_at + timedelta(minutes=30))
    report = await reports.open_report(ctx, walker, shift.id or 0)
    await reports.answer(ctx, report.id or 0, walker, "help_given", ["first_aid"])
    await reports.submit(ctx, report.id or 0, walker, None)
    clock.set(datetime(2026, 10, 25, 6, 59, tzinfo=UTC))
    assert await queue_morning_picture(ctx) == 0
    clock.set(datetime(2026, 10, 25, 7, 0, tzinfo=UTC))
    assert await queue_morning_picture(ctx) == 3
    rows = await outbox(ctx, Kind.MORNING_PICTURE)
    assert local(rows[0].due_at, ctx) == "2026-10-25 08:00 CET"
    text = await render(ctx, rows[0].payload, Recipient(1, "sv", telegram_id=1))
    assert "lör 24/10" in text and "första hjälpen 1 (23–02)" in text.lower(), text
    spring = due_night(ctx, datetime(2027, 3, 28, 6, 0, tzinfo=UTC))
    assert spring is not None and local(spring.moment, ctx) == "2027-03-28 08:00 CEST"
    assert due_night(ctx, datetime(2027, 3, 28, 5, 59, tzinfo=UTC)) is None  # not yet


async def test_two_workers_at_the_same_moment_queue_it_once(
    ctx: Context, clock: ManualClock
) -> None:
    """Two processes on one database tick at 08:00 together, three mornings running: each
    morning's picture is queued once per person (the due mark, and under it the outbox's
    unique keys)."""
    world = await make_world(ctx, walkers=1)
    await partners(ctx)
    clock.set(MORNING_UTC - timedelta(days=7))
    for day in range(3):
        shift = await shift_at(ctx, world, f"2026-11-{27 + day} 21:00",
                               f"2026-11-{28 + day} 01:00")
        await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    second = Store.open(ctx.settings.database.url)
    try:
        worker = Context(store=second, settings=ctx.settings, clock=clock)
        for day in range(3):
            clock.set(MORNING_UTC + timedelta(days=day))
            counts = await asyncio.gather(queue_morning_picture(ctx),
                                          queue_morning_picture(worker))
            assert sorted(counts) == [0, 3], counts
    finally:
        await second.close()
    rows = await outbox(ctx, Kind.MORNING_PICTURE)
    assert len(rows) == 9 and len({r.dedupe_key for r in rows}) == 9


def test_a_long_picture_is_cut_to_two_segments_by_sms() -> None:
    """Twenty flagged places: Telegram shows them all; the SMS keeps the whole lines that fit
    in 306 GSM-7 characters (the places' line does not, the alarms' after it does) and ends
    with "..."."""
    from bot.morning_texts import render_morning
    from tests.conftest import make_settings

    places = [{"key": "morning.place_item",
               "params": {"place": f"Plats nummer {n}", "issue": {"t": "coordinator.place.other"}}}
              for n in range(20)]
    payload = {"night": "2026-11-27", "lines": [
        {"key": "morning.walks", "params": {"planned": 9, "held": 8, "cancelled": 1}},
        {"key": "morning.places", "params": {"items": {"items": places}}},
        {"key": "morning.alarms", "params": {"count": 0, "false": 0}},
    ]}
    ctx = Context(store=None, settings=make_settings("sqlite://"),  # type: ignore[arg-type]
                  clock=ManualClock(MORNING_UTC))
    telegram = render_morning(payload, Recipient(1, "sv", telegram_id=1), ctx).text
    assert "Plats nummer 19" in telegram and "Larm: 0" in telegram
    sms = render_morning(payload, Recipient(1, "sv", phone="+46700000000"), ctx).text
    assert is_gsm7(sms) and len(sms) <= 306 and sms.endswith("...")
    assert sms.startswith("Lägesbild natten fre 27/11\nPass: 8 av 9 genomförda, 1 inställda\n")
    assert "Plats nummer" not in sms and "Larm: 0" in sms


async def test_new_places_for_fault_reporting_are_named_once(
    ctx: Context, clock: ManualClock
) -> None:
    """A broken light at Larmtorget reported after Friday's walk is named in Saturday
    morning's picture as a new place for fault reporting (translated, with its area); the
    next morning, after another walk, the same place is not named again."""
    from tests.places_data import file_report

    night = await walked_night(ctx, clock)
    await partners(ctx)
    light = {"place": "Larmtorget", "category": "broken_light"}
    walker = night.world.walkers[0].id or 0
    await file_report(ctx, night.shift.id or 0, walker, [light])
    clock.set(MORNING_UTC)
    await queue_morning_picture(ctx)
    first = (await outbox(ctx, Kind.MORNING_PICTURE))[0].payload
    text = await render(ctx, first, Recipient(1, "sv", telegram_id=1))
    assert "Nya platser för felanmälan: " in text and "Larmtorget" in text, text
    english = await render(ctx, first, Recipient(2, "en", phone="+46705550000"))
    assert "New places: " in english and not CODES.search(english), english
    clock.set(MORNING_UTC - timedelta(hours=10))
    saturday = await shift_at(ctx, night.world, "2026-11-28 21:00", "2026-11-29 01:00")
    await signups.sign_up(ctx, walker, saturday.id or 0)
    clock.set(saturday.end_at + timedelta(minutes=20))
    await file_report(ctx, saturday.id or 0, walker, [light])
    clock.set(MORNING_UTC + timedelta(days=1))
    assert await queue_morning_picture(ctx) == 3
    rows = await outbox(ctx, Kind.MORNING_PICTURE)
    second = max(rows, key=lambda r: r.id or 0).payload
    assert "Nya platser" not in await render(ctx, second, Recipient(1, "sv", telegram_id=1))
