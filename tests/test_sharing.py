"""Sharing one's number with the group for one night (``DELA <id>``, the "Dela mitt nummer med
gruppen" button): it goes to the others on that shift and nobody else, reaches those who sign
up later, is never in anyone else's data, and is forgotten when the shift ends (the rows are
deleted by the tick; a message still queued is no longer sent)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from bot.channels.gsm7 import is_gsm7
from bot.dialogue.engine import Dialogue
from bot.notifications import NotificationRenderer
from models.tables import SharedNumber, Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Recipient
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.messages.relevance import stale_reason
from scheduling.people.privacy import export_my_data
from scheduling.walks import signups
from scheduling.walks.sharing import forget_shared_numbers
from tests.fakes.chat import Chat
from tests.fakes.senders import RecordingSender
from tests.test_dispatch import dispatcher
from tests.test_sms import Phone, client_for, sms_ctx
from tests.world import World, make_world, outbox, person, shift_at


async def _tonight(ctx: Context, clock: ManualClock) -> tuple[World, Shift, Shift]:
    """Three walkers and the lead on Friday 21-01, walker 3 on another shift; 19:00."""
    world = await make_world(ctx, walkers=4)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    other = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00")
    for walker in [world.lead, *world.walkers[:3]]:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    await signups.sign_up(ctx, world.walkers[3].id or 0, other.id or 0)
    clock.set(shift.start_at - timedelta(hours=2))
    return world, shift, other


async def _shares(ctx: Context) -> int:
    async with ctx.store.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(SharedNumber))).one())


async def test_dela_by_sms_goes_to_the_group_and_nobody_else(
    ctx: Context, clock: ManualClock
) -> None:
    """``DELA <id>`` from the walker's own number: the lead and the two others on the shift
    get the number, not the coordinator nor a walker of another shift; not in their data."""
    world, shift, other = await _tonight(ctx, clock)
    sharer = world.walkers[0]
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        phone = Phone(client, sharer.phone or "")
        (done,) = await phone.text(f"dela {shift.id}")
        assert "3 andra" in done and "glöms" in done and is_gsm7(done), done
        (again,) = await phone.text(f"DELA {shift.id}")
        assert "redan" in again
        (not_mine,) = await phone.text(f"DELA {other.id}")
        assert "inte anmäld" in not_mine
        (usage,) = await phone.text("DELA")
        assert "DELA 12" in usage and "/" not in usage
    shared = await outbox(ctx, Kind.NUMBER_SHARED)
    group = {world.lead.id, world.walkers[1].id, world.walkers[2].id}
    assert {m.person_id for m in shared} == group and len(shared) == 3
    assert all(sharer.phone not in json.dumps(m.payload) for m in shared)  # read when sent
    to = Recipient(world.walkers[1].id or 0, "sv", None, world.walkers[1].phone)
    words = await NotificationRenderer()(Kind.NUMBER_SHARED, shared[0].payload, to, ctx)
    assert "+46702222200" in words.text and "Walker" in words.text and "glöms" in words.text
    for someone in (world.walkers[1], world.walkers[3], world.coordinator):
        assert "+46702222200" not in json.dumps(await export_my_data(ctx, someone.id or 0))


async def test_the_button_in_telegram_and_a_latecomer(ctx: Context, clock: ManualClock) -> None:
    """The card shows the button on one's own shift; pressing it shares; someone who signs up
    afterwards gets the number in the next tick (once). A walker without a number is told."""
    world, shift, _ = await _tonight(ctx, clock)
    sharer = world.walkers[1]
    chat = Chat(Dialogue(ctx), address=str(sharer.telegram_id), telegram_id=sharer.telegram_id)
    await chat.act(f"shift:{shift.id}")
    assert "Dela mitt nummer med gruppen" in chat.labels and "Jag blir sen" in chat.labels
    assert "glöms" in await chat.tap("Dela mitt nummer")
    latecomer = await person(ctx, "Kim Sen", org=world.org, telegram_id=4242)
    await signups.sign_up(ctx, latecomer.id or 0, shift.id or 0)
    await compute_due(ctx)
    await compute_due(ctx)
    to_latecomer = [m for m in await outbox(ctx, Kind.NUMBER_SHARED)
                    if m.person_id == latecomer.id]
    assert len(to_latecomer) == 1
    no_phone = Chat(Dialogue(ctx), address="4242", telegram_id=4242)
    assert "telefonnummer" in await no_phone.command("share", str(shift.id))
    assert "/dela 12" in await no_phone.command("share", "tolv")


async def test_shared_numbers_are_forgotten_when_the_shift_ends(
    ctx: Context, clock: ManualClock
) -> None:
    """Until the end the share stays; at the end the tick deletes the rows, a message still
    queued is no longer sent, and its words no longer hold the number."""
    world, shift, _ = await _tonight(ctx, clock)
    chat = Chat(Dialogue(ctx), address="1000", telegram_id=world.walkers[0].telegram_id)
    await chat.command("share", str(shift.id))
    queued = (await outbox(ctx, Kind.NUMBER_SHARED))[0]
    clock.set(shift.end_at - timedelta(seconds=1))
    assert await forget_shared_numbers(ctx) == 0 and await _shares(ctx) == 1
    clock.set(shift.end_at)
    assert await forget_shared_numbers(ctx) == 1
    assert await _shares(ctx) == 0
    async with ctx.store.sessions() as session:
        assert await stale_reason(session, queued, clock.now(), 1) == "number no longer shared"
    to = Recipient(queued.person_id or 0, "sv", 1, None)
    words = await NotificationRenderer()(Kind.NUMBER_SHARED, queued.payload, to, ctx)
    assert "+4670" not in words.text and "glömt" in words.text


async def test_a_walker_who_cancels_takes_their_number_back(
    ctx: Context, clock: ManualClock
) -> None:
    """Cancelling the sign-up forgets the share at the next tick."""
    world, shift, _ = await _tonight(ctx, clock)
    walker = world.walkers[2]
    chat = Chat(Dialogue(ctx), address="1002", telegram_id=walker.telegram_id)
    await chat.command("share", str(shift.id))
    await signups.cancel_signup(ctx, walker.id or 0, shift.id or 0)
    assert await forget_shared_numbers(ctx) == 1 and await _shares(ctx) == 0


async def test_a_walker_who_cancels_no_longer_gets_a_number_still_queued(
    ctx: Context, clock: ManualClock
) -> None:
    """A number shared with the group, its message to one walker still queued (a retry, a
    channel down); that walker then cancels: at sending it is dropped, not sent, recorded
    expired; the others still on the shift get it."""
    world, shift, _ = await _tonight(ctx, clock)
    sharer, leaver, stayer = world.walkers[0], world.walkers[1], world.walkers[2]
    chat = Chat(Dialogue(ctx), address="1000", telegram_id=sharer.telegram_id)
    await chat.command("share", str(shift.id))
    await signups.cancel_signup(ctx, leaver.id or 0, shift.id or 0)
    telegram = RecordingSender("telegram")
    await dispatcher(ctx, clock, telegram).dispatch_once()
    assert telegram.sent_to(leaver.id or 0) == []
    assert len(telegram.sent_to(stayer.id or 0)) == 1
    (to_leaver,) = [
        m for m in await outbox(ctx, Kind.NUMBER_SHARED) if m.person_id == leaver.id
    ]
    assert to_leaver.status == "expired"
    assert "no longer on the shift" in (to_leaver.last_error or "")


async def test_erasing_a_walker_forgets_their_share_at_once(
    ctx: Context, clock: ManualClock
) -> None:
    """Erased (``RADERA``, or by the operator): the share is gone with the person."""
    from scheduling.people.erasure import erase_person
    from tests.helpers import OPERATOR

    world, shift, _ = await _tonight(ctx, clock)
    chat = Chat(Dialogue(ctx), address="1000", telegram_id=world.walkers[0].telegram_id)
    await chat.command("share", str(shift.id))
    assert await _shares(ctx) == 1
    await erase_person(ctx, OPERATOR, world.walkers[0].id or 0)
    assert await _shares(ctx) == 0
