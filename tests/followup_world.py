"""A walked Friday night for the follow-up and morning-picture tests: IFK Kalmar with its lead,
a coordinator, walkers, and a second organisation with a lead of its own; a walker files a
report marked "needs follow-up" by SMS, with a personnummer and a phone number in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.dialogue.engine import Dialogue
from models.tables import Person, Role, Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.walks import signups
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR
from tests.world import World, make_world, person, shift_at

PNR = "811218-9876"  # a valid personnummer (the Tax Agency's example)
PHONE = "070-123 45 67"
SUMMARY = f"Orolig för en tjej, {PNR}, hennes mamma har {PHONE}"
# Every report question by number (as by SMS), "needs follow-up" = yes, then the summary.
FLAGGED = ("2", "3", "2", "2", "2", "1", "1 3", "1", "1 2", "2", "1", "4", "2", "1", "1")


@dataclass
class Night:
    world: World
    shift: Shift
    other_lead: Person
    other_org: int


async def walked_night(ctx: Context, clock: ManualClock) -> Night:
    """Friday 27/11 21:00-01:00 walked by every walker; the clock just after the end."""
    world = await make_world(ctx, walkers=3)
    other = await directory.add_organisation(ctx, OPERATOR, "Trygga vuxna")
    other_lead = await person(ctx, "Olle Annan", org=other.id, role=Role.LEAD, telegram_id=9100)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(minutes=20))
    return Night(world, shift, other_lead, other.id or 0)


async def file_flagged_report(ctx: Context, night: Night, summary: str = SUMMARY) -> Chat:
    """The first walker reports by SMS and marks it for follow-up."""
    walker = night.world.walkers[0]
    phone = walker.phone or ""
    chat = Chat(Dialogue(ctx), channel="sms", address=phone, telegram_id=None, phone=phone)
    await chat.command("report", str(night.shift.id))
    for answer in FLAGGED:
        await chat.say(answer)
    await chat.say(summary)
    assert "tack" in chat.text.lower(), chat.text
    return chat


def staff_chat(ctx: Context, who: Person) -> Chat:
    assert who.telegram_id is not None
    return Chat(Dialogue(ctx), address=str(who.telegram_id), telegram_id=who.telegram_id)
