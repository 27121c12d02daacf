"""The report's place issues in the dialogue: another place in the walker's own words (masked),
the new kind "unsafe spot", and the place it makes for the kommun's fault reporting."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.dialogue.engine import Dialogue
from models.tables import Person, Place, Report
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.walks import signups
from tests.fakes.chat import Chat
from tests.helpers import add_people, add_shift, seed_org_area


async def test_another_place_in_own_words_by_sms(ctx: Context, clock: ManualClock) -> None:
    """By numbers, as by SMS: "another place" asks where; the words are masked and capped,
    "unsafe spot" is a kind; the submitted report makes an open place with that spot."""
    org, area = await seed_org_area(ctx, area="Centrum")
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=1), hours=4)
    phone = "+46701234567"
    chat = Chat(Dialogue(ctx), channel="sms", address=phone, telegram_id=None, phone=phone)
    (person,) = await add_people(ctx, 1, org=org)
    async with ctx.store.transaction() as session:
        stored = await session.get(Person, person.id)
        assert stored is not None
        stored.phone = phone
        session.add(stored)
    await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    clock.advance(timedelta(hours=5, minutes=30))
    await chat.command("report", str(shift.id))
    for answer in ("2", "3", "2", "2", "2", "2", "1 3", "1", "1 2", "2"):
        await chat.say(answer)
    assert "Annan plats" in chat.labels
    await chat.say("9")  # another place: eight configured ones, then "Annan plats"
    assert "Var är det?" in chat.text
    await chat.say("Gångvägen bakom biblioteket, ring 070-123 45 67")
    assert "Otrygg plats" in chat.labels
    for answer in ("6", "2", "1", "2"):
        await chat.say(answer)
    await chat.say("Lugnt")
    assert "tack" in chat.text.lower()
    async with ctx.store.sessions() as session:
        report = (await session.exec(select(Report))).one()
        place = (await session.exec(select(Place))).one()
    spot = "Gångvägen bakom biblioteket, ring [telefon]"
    assert report.place_issues == [{"place": "other", "category": "unsafe", "spot": spot}]
    assert (place.spot, place.kind, place.reports, place.status) == (spot, "unsafe", 1, "open")
