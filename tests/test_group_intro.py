"""The group before it meets: at ``[reminders] group_intro_before`` (3h) each walker confirmed
by then is told who they walk with (first names, organisation, who leads, who did the course),
the meeting point with a map link, and the checklist; derived once in the tick, never for a
latecomer; the SMS version GSM-7, without Telegram commands, in a few segments."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.channels.gsm7 import is_gsm7
from bot.channels.sms_sender import sms_text
from bot.notifications import NotificationRenderer
from fakes.sms_segments import segments
from models.tables import OutboxMessage, Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Outgoing, Recipient
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.people import directory
from scheduling.walks import signups
from tests.helpers import OPERATOR, with_settings
from tests.world import World, make_world, outbox, person, shift_at

TELEGRAM_COMMAND = re.compile(r"(^|\s)/[a-z_]+")


async def _walk(ctx: Context, walkers: int = 3) -> tuple[World, Shift]:
    """Lena (the lead, trained) and the walkers signed up on Monday for Friday 21-01, at a
    meeting point with coordinates."""
    world = await make_world(ctx, walkers=walkers)
    area = await directory.add_area(ctx, OPERATOR, "Kvarnholmen", "Larmtorget, vid fontänen",
                                    56.6634, 16.3631)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", area=area.id)
    for walker in [world.lead, *world.walkers]:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    return world, shift


async def _intro(ctx: Context, to: OutboxMessage, language: str = "sv", sms: bool = False
                 ) -> Outgoing:
    recipient = Recipient(to.person_id or 0, language, None if sms else 1, "+46700000000")
    return await NotificationRenderer()(Kind.GROUP_INTRO, to.payload, recipient, ctx)


async def test_the_intro_is_derived_once_at_its_moment_and_not_for_latecomers(
    ctx: Context, clock: ManualClock
) -> None:
    """Nothing before 18:00; at 18:00 one intro per walker confirmed by then; a second tick
    (a restart, a second worker) adds nothing; a walker signing up at 19:00 gets none."""
    world, shift = await _walk(ctx)
    clock.set(shift.start_at - timedelta(hours=3, seconds=1))
    await compute_due(ctx)
    assert await outbox(ctx, Kind.GROUP_INTRO) == []
    clock.set(shift.start_at - timedelta(hours=3))
    await compute_due(ctx)
    intros = await outbox(ctx, Kind.GROUP_INTRO)
    assert sorted(m.person_id or 0 for m in intros) == sorted(
        p.id or 0 for p in [world.lead, *world.walkers])
    assert all(m.expires_at == shift.start_at and m.due_at == clock.now() for m in intros)
    clock.advance(timedelta(hours=1))
    late = await person(ctx, "Kim Sen", org=world.org, telegram_id=4242)
    await signups.sign_up(ctx, late.id or 0, shift.id or 0)
    await compute_due(ctx)
    await compute_due(ctx)
    again = await outbox(ctx, Kind.GROUP_INTRO)
    assert [m.id for m in again] == [m.id for m in intros]


async def test_the_intro_in_telegram(ctx: Context, clock: ManualClock) -> None:
    """First names only, organisation, who leads and who is trained, not oneself, no phone
    number; the meeting point with a map link; the checklist; share and late buttons."""
    world, shift = await _walk(ctx)
    clock.set(shift.start_at - timedelta(hours=3))
    await compute_due(ctx)
    to_walker = next(m for m in await outbox(ctx, Kind.GROUP_INTRO)
                     if m.person_id == world.walkers[0].id)
    intro = await _intro(ctx, to_walker)
    text = intro.text
    assert "IFK Kalmar: Lena (gruppledare, utbildad), Walker, Walker." in text, text
    assert "Ledare" not in text and "0701111111" not in text and "+4670" not in text
    assert "Larmtorget, vid fontänen" in text
    assert "https://www.openstreetmap.org/?mlat=56.66340&mlon=16.36310" in text
    assert "Ta med: väst, ficklampa, laddad telefon, första hjälpen-kit." in text
    assert [o.action for o in intro.options] == [f"share:{shift.id}", f"late:{shift.id}"]
    to_lead = next(m for m in await outbox(ctx, Kind.GROUP_INTRO) if m.person_id == world.lead.id)
    lead_text = (await _intro(ctx, to_lead, "en")).text
    assert "You lead the group tonight." in lead_text and "Lena" not in lead_text
    assert "Bring: vest, torch, charged phone, first-aid kit." in lead_text


async def test_the_intro_by_sms_fits_a_few_segments(ctx: Context, clock: ManualClock) -> None:
    """Eight walkers, Swedish and English: GSM-7, no Telegram command, the keywords DELA and
    SEN with the shift's number, at most four segments. A configured checklist is used, its
    own words as written."""
    world, shift = await _walk(ctx, walkers=7)
    ctx = with_settings(ctx, walks={"checklist": ["vest", "reflexband", "torch"]})
    clock.set(shift.start_at - timedelta(hours=3))
    await compute_due(ctx)
    to_walker = next(m for m in await outbox(ctx, Kind.GROUP_INTRO)
                     if m.person_id == world.walkers[0].id)
    for language, share, late in (("sv", "DELA", "SEN"), ("en", "SHARE", "LATE")):
        body = sms_text(await _intro(ctx, to_walker, language, sms=True), language)
        assert is_gsm7(body) and not TELEGRAM_COMMAND.search(body), body
        assert f"{share} {shift.id}" in body and f"{late} {shift.id}" in body, body
        assert segments(body) <= 4, (segments(body), body)
        assert "reflexband" in body
