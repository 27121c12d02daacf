"""Announcements: a lead's or the coordinator's own text to their walkers, confirmed with the
head-count, warned in quiet hours, rate-limited, audited, with the walker's own opt-out; never
by SMS; leads only to their own organisation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.channels import sms
from bot.dialogue.engine import Dialogue
from bot.notifications import NotificationRenderer
from models.tables import AuditEntry, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.messages.announcements import broadcast, preview
from scheduling.messages.audiences import Audience
from scheduling.messages.content import Recipient
from scheduling.messages.kinds import Kind, Priority
from scheduling.people import announcement_settings, directory
from scheduling.people.access import Actor
from scheduling.walks import signups
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, with_settings
from tests.world import World, make_world, outbox, person, shift_at

LEAD_TG = 5050


async def lead_chat(ctx: Context, world: World) -> Chat:
    await person(ctx, "Lars Ledare", org=world.org, role=Role.LEAD, telegram_id=LEAD_TG)
    return Chat(Dialogue(ctx), address=str(LEAD_TG), telegram_id=LEAD_TG)


async def person_id_of(ctx: Context, telegram_id: int) -> int | None:
    from models.tables import Person

    async with ctx.store.sessions() as session:
        found = await session.exec(select(Person.id).where(col(Person.telegram_id) == telegram_id))
        return found.first()


async def test_a_lead_confirms_the_head_count_then_sends_to_their_walkers(ctx: Context) -> None:
    """ "Skicka till 4 vandrare?" (the lead's organisation, the sender left out, an opted-out
    walker not counted); after "Skicka" four rows of normal priority, audited."""
    world = await make_world(ctx, walkers=4)
    chat = await lead_chat(ctx, world)
    await announcement_settings.set_announcements_off(ctx, world.walkers[0].id or 0, True)
    await chat.command("announce")
    await chat.tap("Alla i föreningen")
    assert "högst 1000 tecken" in chat.text
    reply = await chat.say("Utbildningskväll torsdag 19:00 i klubbstugan.")
    assert "Skicka till 5 vandrare?" in reply and "Utbildningskväll" in reply
    assert await outbox(ctx, Kind.BROADCAST) == []
    assert "skickat till 5 vandrare" in await chat.tap("Skicka")
    rows = await outbox(ctx, Kind.BROADCAST)
    lars = await person_id_of(ctx, LEAD_TG)
    expected = {lars, world.lead.id, *(w.id for w in world.walkers[1:])}
    assert {r.person_id for r in rows} == expected
    assert {(r.priority, r.urgent) for r in rows} == {(Priority.NORMAL, False)}
    async with ctx.store.sessions() as session:
        audits = (
            await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "broadcast.send"))
        ).all()
    assert [(a.outcome, a.details.get("recipients")) for a in audits] == [("ok", 5)]


async def test_a_lead_reaches_only_their_own_organisation(ctx: Context) -> None:
    """Another organisation, or everyone, is refused (audited); by SMS the command is refused
    like every staff power."""
    world = await make_world(ctx, walkers=1)
    other = await directory.add_organisation(ctx, OPERATOR, "Nattvandrarna")
    lead = Actor.of(world.lead, "telegram")
    for audience in (
        Audience(organisation_id=other.id),
        Audience(),
        Audience(night=date(2026, 11, 27)),
    ):
        with pytest.raises(PermissionDenied):
            await broadcast(ctx, lead, "Hej", audience)
    by_sms = Chat(
        Dialogue(ctx),
        channel="sms",
        address=world.lead.phone or "",
        telegram_id=None,
        phone=world.lead.phone,
    )
    reply = await by_sms.command("announce")
    assert "behörighet" in reply and "Telegram" in reply
    assert await outbox(ctx, Kind.BROADCAST) == []


async def test_by_area_and_by_night(ctx: Context) -> None:
    """An area: those signed up to its coming shifts; a night: those on shifts starting from
    noon that day to noon the next (a 00:30 start belongs to the evening before)."""
    world = await make_world(ctx, walkers=3)
    other_area = await directory.add_area(ctx, OPERATOR, "Stortorget")
    friday = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    late = await shift_at(
        ctx, world, "2026-11-28 00:30", "2026-11-28 03:00", area=other_area.id or 0
    )
    saturday = await shift_at(
        ctx, world, "2026-11-28 21:00", "2026-11-29 01:00", area=other_area.id or 0
    )
    a, b, c = (w.id or 0 for w in world.walkers)
    for who, shift in ((a, friday), (b, late), (c, saturday)):
        await signups.sign_up(ctx, who, shift.id or 0)
    coordinator = Actor.of(world.coordinator, "telegram")
    by_area = await broadcast(ctx, coordinator, "Stortorget", Audience(area_id=other_area.id))
    by_night = await broadcast(ctx, coordinator, "Fredag", Audience(night=date(2026, 11, 27)))
    rows = await outbox(ctx, Kind.BROADCAST)
    assert {r.person_id for r in rows if r.payload["broadcast_id"] == by_area.id} == {b, c}
    assert {r.person_id for r in rows if r.payload["broadcast_id"] == by_night.id} == {a, b}
    assert (by_area.audience, by_night.audience, by_night.night) == (
        "area",
        "night",
        date(2026, 11, 27),
    )


async def test_quiet_hours_are_warned_of(ctx: Context, clock: ManualClock) -> None:
    """At 23:00 local the confirmation says it would arrive in quiet hours, until 08:00;
    at noon it says nothing of the sort."""
    world = await make_world(ctx, walkers=1)
    chat = await lead_chat(ctx, world)
    clock.set(datetime(2026, 11, 24, 22, 0, tzinfo=UTC))  # 23:00 in Kalmar
    await chat.command("announce")
    await chat.tap("Alla i föreningen")
    reply = await chat.say("Stormvarning i natt: passet ställs in.")
    assert "tyst tid" in reply and "kl. 08:00" in reply and "Skicka till 3 vandrare?" in reply
    seen = await preview(
        ctx, Actor.of(world.lead, "telegram"), "Hej", Audience(organisation_id=world.org)
    )
    assert seen.quiet_until == datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
    clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    assert (
        await preview(
            ctx, Actor.of(world.lead, "telegram"), "Hej", Audience(organisation_id=world.org)
        )
    ).quiet_until is None


async def test_a_sender_is_rate_limited_per_hour(ctx: Context, clock: ManualClock) -> None:
    """With per_hour = 2 the third within the hour is refused saying when; an hour after the
    first it goes; the command line is not limited."""
    ctx = with_settings(ctx, announcements={"per_hour": 2})
    world = await make_world(ctx, walkers=1)
    lead, audience = Actor.of(world.lead, "telegram"), Audience(organisation_id=world.org)
    await broadcast(ctx, lead, "Ett", audience)
    clock.advance(timedelta(minutes=20))
    await broadcast(ctx, lead, "Två", audience)
    with pytest.raises(DomainError) as refused:
        await broadcast(ctx, lead, "Tre", audience)
    assert refused.value.code == "announcement_rate_limited"
    assert refused.value.params == {"per_hour": 2, "minutes": 41}
    clock.advance(timedelta(minutes=41))
    await broadcast(ctx, lead, "Tre", audience)
    for n in range(3):
        await broadcast(ctx, OPERATOR, f"cli {n}", audience)


@pytest.mark.parametrize(
    ("text", "code"), [("   \u200b ", "empty_text"), ("x" * 1001, "text_too_long")]
)
async def test_empty_or_too_long_text_is_refused(ctx: Context, text: str, code: str) -> None:
    world = await make_world(ctx, walkers=1)
    with pytest.raises(DomainError) as refused:
        await broadcast(
            ctx, Actor.of(world.lead, "telegram"), text, Audience(organisation_id=world.org)
        )
    assert refused.value.code == code
    assert await outbox(ctx, Kind.BROADCAST) == []


async def test_a_walker_turns_announcements_off_and_on_by_sms(ctx: Context) -> None:
    """UTSKICK AV / UTSKICK PÅ by SMS: the setting changes, the answer names the SMS keyword
    and no Telegram command; the announcement itself says how (a button, an SMS keyword)."""
    world = await make_world(ctx, walkers=1)
    walker = world.walkers[0]
    assert sms.parse("utskick  av", "+46700000000").inbound.command == "announcements_off"  # type: ignore[union-attr]
    assert sms.parse("Utskick PÅ", "+46700000000").inbound.command == "announcements_on"  # type: ignore[union-attr]
    chat = Chat(
        Dialogue(ctx),
        channel="sms",
        address=walker.phone or "",
        telegram_id=None,
        phone=walker.phone,
    )
    reply = await chat.command("announcements_off")
    assert "UTSKICK PA" in reply and "/" not in reply
    assert await announcement_settings.announcements_off(ctx, walker.id or 0)
    await chat.command("announcements_on")
    assert not await announcement_settings.announcements_off(ctx, walker.id or 0)
    said = await NotificationRenderer()(
        Kind.BROADCAST, {"text": "Hej", "author": "Lena"}, Recipient(1, "sv"), ctx
    )
    assert [o.action for o in said.options] == ["ann:off"]
    assert said.keyword_hint == "Inga fler meddelanden? Svara UTSKICK AV."
