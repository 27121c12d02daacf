""""Jag blir sen" / ``SEN <id> [minutes]`` (``LATE``): the group lead and the others on the
shift are told; only for one's own confirmed sign-up near the shift; minutes 1-180; bad input
gets a polite word on how to write it. By SMS (signed webhook), in the dialogue as Telegram
hands it, and end to end through the real Telegram client and the fake Bot API."""

from __future__ import annotations

from datetime import timedelta

from bot.channels.gsm7 import is_gsm7
from bot.channels.sms import parse
from bot.channels.sms_sender import sms_text
from bot.dialogue.engine import Dialogue
from bot.notifications import NotificationRenderer
from models.tables import Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Recipient
from scheduling.messages.kinds import Kind
from scheduling.walks import signups
from tests.fakes.chat import Chat
from tests.helpers import add_shift, seed_org_area
from tests.test_sms import Phone, client_for, sms_ctx
from tests.test_telegram import ANNA, register, running_bot, said
from tests.world import World, make_world, outbox, shift_at


async def _tonight(ctx: Context, clock: ManualClock) -> tuple[World, Shift, Shift]:
    """The lead (trained: the proposed group lead) and three walkers on Friday 21-01, walker 3
    on Saturday; the clock at 20:30."""
    world = await make_world(ctx, walkers=4)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    other = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00")
    for walker in [world.lead, *world.walkers[:3]]:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    await signups.sign_up(ctx, world.walkers[3].id or 0, other.id or 0)
    clock.set(shift.start_at - timedelta(minutes=30))
    return world, shift, other


async def test_sen_by_sms_tells_the_group_lead_and_the_group(
    ctx: Context, clock: ManualClock
) -> None:
    """``SEN <id> 15``: the lead (the group lead) and the two others are told, nobody else;
    the words are GSM-7. Bad minutes, a shift not one's own, a missing number: polite."""
    world, shift, other = await _tonight(ctx, clock)
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        phone = Phone(client, world.walkers[0].phone or "")
        (done,) = await phone.text(f"sen {shift.id} 15")
        assert "15 min" in done and "3 personer" in done and is_gsm7(done), done
        for bad in (f"SEN {shift.id} 500", f"SEN {shift.id} 0", f"SEN {shift.id} snart"):
            (said_no,) = await phone.text(bad)
            assert "mellan 1 och 180" in said_no, (bad, said_no)
        (usage,) = await phone.text("SEN")
        assert "SEN 12 15" in usage and "/" not in usage
        (not_mine,) = await phone.text(f"SEN {other.id}")
        assert "inte anmäld" in not_mine
        (english,) = await phone.text(f"LATE {shift.id}")
        assert "får veta" in english
    notices = await outbox(ctx, Kind.RUNNING_LATE)
    told = {world.lead.id, world.walkers[1].id, world.walkers[2].id}
    assert {m.person_id for m in notices} == told and len(notices) == 6
    assert all(m.urgent and m.expires_at == shift.end_at for m in notices)
    to = Recipient(world.lead.id or 0, "sv", None, world.lead.phone)
    words = await NotificationRenderer()(Kind.RUNNING_LATE, notices[0].payload, to, ctx)
    assert words.text.startswith("Walker blir ca 15 min sen till pass")
    assert is_gsm7(sms_text(words, "sv"))
    assert parse("Sen gick vi hem", "+46700000000").inbound.text == "Sen gick vi hem"  # type: ignore[union-attr]


async def test_only_near_the_shift_and_at_most_three_times(
    ctx: Context, clock: ManualClock
) -> None:
    """More than 6 hours ahead: not yet; after the end: over; a fourth notice: enough."""
    world, shift, _ = await _tonight(ctx, clock)
    chat = Chat(Dialogue(ctx), address="1000", telegram_id=world.walkers[0].telegram_id)
    clock.set(shift.start_at - timedelta(hours=6, minutes=1))
    assert "mer än 6 timmar" in await chat.command("late", str(shift.id))
    clock.set(shift.start_at - timedelta(hours=6))
    for minutes in ("10", "20", "30"):
        assert "får veta" in await chat.command("late", f"{shift.id} {minutes}")
    assert "tre gånger" in await chat.command("late", str(shift.id))
    clock.set(shift.end_at)
    assert "slut" in await chat.command("late", str(shift.id))


async def test_the_button_asks_how_late(ctx: Context, clock: ManualClock) -> None:
    """"Jag blir sen" on the card offers 10, 20, 30 minutes or "Vet inte"; a stale or forged
    button gets a short answer."""
    world, shift, _ = await _tonight(ctx, clock)
    walker = world.walkers[1]
    chat = Chat(Dialogue(ctx), address="1001", telegram_id=walker.telegram_id)
    await chat.act(f"shift:{shift.id}")
    assert "Hur sen" in await chat.tap("Jag blir sen")
    assert chat.labels == ["10 min", "20 min", "30 min", "Vet inte"]
    assert "ca 20 min" in await chat.tap("20 min")
    (notice, *_) = await outbox(ctx, Kind.RUNNING_LATE)
    assert notice.payload["minutes"] == 20
    await chat.act(f"shift:{shift.id}")
    await chat.tap("Jag blir sen")
    assert "får veta" in await chat.tap("Vet inte")
    for forged in ("late:x", f"late:{shift.id}:x", f"late:{shift.id}:1:2"):
        assert "gäller inte" in await chat.act(forged), forged


async def test_sen_and_dela_through_the_real_telegram_client(
    ctx: Context, clock: ManualClock
) -> None:
    """``/sen <id> 15`` and ``/dela <id>`` typed in Telegram: told; a walker vandra has no
    number for is told so, politely."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=2))
    async with running_bot(ctx) as (tg, _):
        await register(tg, ANNA, "Anna")
        tg.send_text(ANNA, f"/start pass_{shift.id}")
        await said(tg, ANNA, f"Pass {shift.id}")
        tg.send_text(ANNA, f"/sen {shift.id}")
        await said(tg, ANNA, "inte anmäld")
        await signups.sign_up(ctx, await _anna(ctx), shift.id or 0)
        tg.send_text(ANNA, f"/sen {shift.id} 15")
        await said(tg, ANNA, "Välkommen när du kommer")
        tg.send_text(ANNA, f"/dela {shift.id}")
        await said(tg, ANNA, "telefonnummer")
        tg.send_text(ANNA, "/sen 12 400")
        await said(tg, ANNA, "mellan 1 och 180")


async def _anna(ctx: Context) -> int:
    from sqlmodel import select

    from models.tables import Person

    async with ctx.store.sessions() as session:
        return (await session.exec(select(Person.id).where(Person.telegram_id == ANNA))).one() or 0
