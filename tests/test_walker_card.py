"""A walker's card for leads and the coordinator: approval, the walk course, the record check
(set in chat, today or a typed date) and "3 av 12 pass utan att komma"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.dialogue.engine import Dialogue
from models.tables import Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import PermissionDenied
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import signups
from scheduling.walks.attendance import record_attendance
from scheduling.walks.walker_cards import walker_card
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, add_people, add_shift, seed_org_area


async def lead_chat(ctx: Context, org: int, telegram_id: int = 601) -> Chat:
    lead = await directory.add_person(ctx, OPERATOR, name=f"Lead {telegram_id}",
                                      telegram_id=telegram_id, organisation=org, role=Role.LEAD)
    await directory.record_consent(ctx, lead.id or 0)
    return Chat(Dialogue(ctx), address=str(telegram_id), telegram_id=telegram_id)


async def test_the_card_counts_missed_walks(ctx: Context, clock: ManualClock) -> None:
    org, area = await seed_org_area(ctx)
    (bea, cai) = await add_people(ctx, 2, org=org)
    walks = [await add_shift(ctx, org, area, start_in=timedelta(days=1 + n)) for n in range(3)]
    for shift in walks:
        await signups.sign_up(ctx, bea.id or 0, shift.id or 0)
        await signups.sign_up(ctx, cai.id or 0, shift.id or 0)
    clock.set(walks[1].end_at + timedelta(hours=1))  # two walks over, the third to come
    await record_attendance(ctx, OPERATOR, walks[0].id or 0, [cai.id])
    await record_attendance(ctx, OPERATOR, walks[1].id or 0, [cai.id, bea.id])
    card = await walker_card(ctx, OPERATOR, bea.id or 0)
    assert (card.no_shows, card.walks) == (1, 2)
    chat = await lead_chat(ctx, org)
    await chat.command("walkers")
    text = await chat.tap("Walker 0")
    assert "Pass: 1 av 2 pass utan att komma" in text
    assert "Vandringskurs: ingen registrerad" in text


async def test_a_lead_records_course_and_check_from_the_card(ctx: Context) -> None:
    org, _ = await seed_org_area(ctx)
    (bea,) = await add_people(ctx, 1, org=org)
    chat = await lead_chat(ctx, org)
    today = ctx.now().astimezone(ctx.zone).date()
    await chat.act(f"wcard:{bea.id}")
    text = await chat.tap("Kurs gjord i dag")
    assert "Sparat för Walker 0" in text and f"Vandringskurs: {today}" in text
    await chat.tap("Utdrag: annat datum")
    assert "ÅÅÅÅ-MM-DD" in await chat.say("igår")
    assert "har inte varit" in await chat.say(str(today + timedelta(days=3)))
    text = await chat.say("2026-01-15")
    assert "visat 2026-01-15, gäller till 2027-01-15" in text
    card = await walker_card(ctx, OPERATOR, bea.id or 0)
    assert card.course_on == today and card.record_until is not None


async def test_a_waiting_walker_is_approved_from_the_card(ctx: Context) -> None:
    org, _ = await seed_org_area(ctx)
    (bea,) = await add_people(ctx, 1, org=org)
    async with ctx.store.transaction() as session:
        from models.tables import Person

        person = await session.get(Person, bea.id)
        assert person is not None
        person.approved_at = None
        session.add(person)
    chat = await lead_chat(ctx, org)
    assert "Walker 0 (väntar)" in (await chat.command("walkers"), chat.labels)[1]
    assert "väntar på godkännande" in await chat.tap("Walker 0")
    assert "godkänd" in await chat.tap("Godkänn")


async def test_strangers_and_sms_get_no_card(ctx: Context) -> None:
    org, _ = await seed_org_area(ctx)
    other = (await directory.add_organisation(ctx, OPERATOR, "Röda Korset")).id or 0
    (bea,) = await add_people(ctx, 1, org=org)
    (lead,) = await add_people(ctx, 1, org=other, role=Role.LEAD, prefix="Other")
    with pytest.raises(PermissionDenied):
        await walker_card(ctx, Actor.of(lead, "telegram"), bea.id or 0)
    stranger = await lead_chat(ctx, other, 602)
    assert "behörighet" in await stranger.act(f"wvet:{bea.id}:course")
    sms_lead = await directory.add_person(ctx, OPERATOR, name="Sms", phone="+46701112233",
                                          organisation=org, role=Role.LEAD)
    await directory.record_consent(ctx, sms_lead.id or 0)
    sms = Chat(Dialogue(ctx), channel="sms", address="+46701112233", telegram_id=None,
               phone="+46701112233")
    for action in (f"wcard:{bea.id}", f"wvet:{bea.id}:course"):
        assert "Telegram" in await sms.act(action)
    assert "Telegram" in await sms.command("walkers")
    assert (await walker_card(ctx, OPERATOR, bea.id or 0)).course_on is None
