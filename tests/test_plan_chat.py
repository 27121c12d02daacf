"""Editing a shift in chat (from its card), and the change notice and an announcement reaching
an SMS walker through the fake Twilio as GSM-7."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.sms_sender import SmsSender
from bot.channels.twilio_client import TwilioSender
from bot.dialogue.engine import Dialogue
from bot.notifications import NotificationRenderer
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilioServer,
)
from models.tables import Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.announcements import broadcast
from scheduling.messages.audiences import Audience
from scheduling.messages.kinds import Kind
from scheduling.people.access import Actor
from scheduling.walks import signups
from scheduling.walks.shifts import get_shift
from scheduling.workers.dispatcher import Dispatcher
from tests.fakes.chat import Chat
from tests.fakes.senders import FakeTime
from tests.test_dispatch import FAST
from tests.world import make_world, outbox, person, shift_at

LEAD_TG = 5050


async def test_a_lead_moves_a_shift_from_its_card(ctx: Context) -> None:
    """Card → "Ändra passet" → Tid → "22:00-02:00" → confirm: moved past midnight, walkers
    told; a bad answer is explained and asked again; a walker sees no such button."""
    world = await make_world(ctx, walkers=1)
    await person(ctx, "Lars", org=world.org, role=Role.LEAD, telegram_id=LEAD_TG)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    chat = Chat(Dialogue(ctx), address=str(LEAD_TG), telegram_id=LEAD_TG)
    await chat.act(f"shift:{shift.id}")
    await chat.tap("Ändra passet")
    await chat.tap("Tid")
    assert "21:00-01:00" in await chat.say("sent")
    reply = await chat.say("22:00-02:00")
    assert "ny tid 2026-11-27 22:00–02:00" in reply
    assert "är ändrat" in await chat.tap("Ja, ändra")
    async with ctx.store.transaction() as session:
        moved = await get_shift(session, shift.id or 0)
    assert moved.end_at - moved.start_at == shift.end_at - shift.start_at
    assert moved.start_at - shift.start_at == moved.end_at - shift.end_at
    assert len(await outbox(ctx, Kind.SHIFT_CHANGED)) == 1
    walker = Chat(
        Dialogue(ctx),
        address=str(world.walkers[0].telegram_id),
        telegram_id=world.walkers[0].telegram_id,
    )
    await walker.act(f"shift:{shift.id}")
    assert not any("Ändra" in label for label in walker.labels)
    assert "behörighet" in await walker.act(f"ed:{shift.id}:time")


async def test_meeting_point_and_counts_in_chat_and_max_below_refused(ctx: Context) -> None:
    """A new meeting point is applied after the confirmation; a max below those signed up is
    refused politely, and the shift keeps its max."""
    world = await make_world(ctx, walkers=2)
    await person(ctx, "Lars", org=world.org, role=Role.LEAD, telegram_id=LEAD_TG)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    chat = Chat(Dialogue(ctx), address=str(LEAD_TG), telegram_id=LEAD_TG)
    await chat.act(f"ed:{shift.id}:point")
    await chat.say("Larmtorget, vid fontänen")
    await chat.tap("Ja, ändra")
    await chat.act(f"ed:{shift.id}:counts")
    await chat.say("1-1")
    reply = await chat.tap("Ja, ändra")
    assert "redan 2 anmälda" in reply
    async with ctx.store.transaction() as session:
        same = await get_shift(session, shift.id or 0)
    assert (same.meeting_point, same.max_walkers) == ("Larmtorget, vid fontänen", 8)


@pytest.fixture
async def tw() -> AsyncIterator[FakeTwilioServer]:
    async with FakeTwilioServer(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN) as server:
        yield server


async def test_sms_walkers_get_the_notice_and_announcements_in_gsm7(
    ctx: Context, clock: ManualClock, tw: FakeTwilioServer
) -> None:
    """Through the real renderer, SmsSender and the fake Twilio: "Ändrat ... ->" and an
    announcement with odd Unicode arrive as GSM-7, with the SMS way to opt out."""
    world = await make_world(ctx, walkers=0)
    walker = await person(ctx, "Sms Walker", org=world.org, phone="0701234567")
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    from datetime import datetime

    from scheduling.walks.editing import ShiftChange, edit_shift
    from tests.helpers import OPERATOR

    await edit_shift(ctx, OPERATOR, shift.id or 0, ShiftChange(start=datetime(2026, 11, 27, 22, 0)))
    text = "Storm ⚡ i natt — håll er inne. “Tack” 👍\u200b ök"
    await broadcast(ctx, Actor.of(world.coordinator, "telegram"), text, Audience())
    client = TwilioSender(
        TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, tw.base_url, from_number=TEST_FROM_NUMBER
    )
    sender = SmsSender(client, clock=ctx.now)
    fake = FakeTime(clock)
    worker = Dispatcher(
        ctx,
        {"sms": sender},
        NotificationRenderer(),
        limits=FAST,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
    )
    try:
        await worker.dispatch_once()
    finally:
        await sender.close()
    bodies = [m.body for m in tw.sent_to(walker.phone or "")]
    assert {m.encoding for m in tw.sent_to(walker.phone or "")} == {"GSM-7"}
    (notice,) = [b for b in bodies if b.startswith("Ändrat")]
    assert "21:00-01:00 -> fre 27/11 kl. 22:00-01:00" in notice
    (said,) = [b for b in bodies if "Storm" in b]
    assert '- håll er inne. "Tack"' in said and "UTSKICK AV" in said


async def test_editing_by_sms_is_refused_like_every_staff_power(ctx: Context) -> None:
    """The lead's own number asking to edit (a forged option) or announce: refused, unchanged."""
    world = await make_world(ctx, walkers=0)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    chat = Chat(Dialogue(ctx), channel="sms", address=world.lead.phone or "", telegram_id=None,
                phone=world.lead.phone)
    for action in (f"ed:{shift.id}", f"ed:{shift.id}:time", "an:all", "an:send"):
        reply = await chat.act(action)
        assert "Telegram" in reply and "/" not in reply, (action, reply)
    async with ctx.store.transaction() as session:
        assert (await get_shift(session, shift.id or 0)).sequence == 0
