""" "Vilka var med?": after a shift its lead marks who came; the rest are no-shows."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.channels.sms_sender import sms_text
from bot.dialogue.engine import Dialogue
from bot.notifications import NotificationRenderer
from models.tables import Person, Signup
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Recipient
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.people import directory
from scheduling.walks import signups
from tests.fakes.chat import Chat
from tests.test_sms import Phone, client_for, sms_ctx
from tests.world import make_world, outbox, shift_at


async def walked(ctx: Context, clock: ManualClock) -> tuple[object, int]:
    """Three walkers signed up, the first checked in; the clock after the end."""
    world = await make_world(ctx, walkers=3)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.start_at)
    await signups.check_in(ctx, world.walkers[0].id or 0, shift.id or 0)
    await signups.check_out(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(minutes=16))
    return world, shift.id or 0


async def test_the_lead_is_asked_once_and_marks_who_came(ctx: Context, clock: ManualClock) -> None:
    world, shift_id = await walked(ctx, clock)
    await compute_due(ctx)
    await compute_due(ctx)
    asked = await outbox(ctx, Kind.ATTENDANCE_CHECK)
    assert [m.person_id for m in asked] == [world.lead.id]  # type: ignore[attr-defined]
    notice = await NotificationRenderer()(
        Kind.ATTENDANCE_CHECK, asked[0].payload, Recipient(person_id=1, language="sv"), ctx
    )
    assert "Vilka var med" in notice.text
    assert "NÄRVARO" not in sms_text(notice, "sv") and "Telegram" in sms_text(notice, "sv")
    lead = world.lead  # type: ignore[attr-defined]
    await directory.record_consent(ctx, lead.id or 0)
    async with client_for(sms_ctx(ctx)) as client:  # a lead's power: never by SMS
        phone = Phone(client, lead.phone)
        refused = (await phone.text(f"NÄRVARO {shift_id}"))[0]
        assert "behörighet" in refused and "Telegram" in refused
        assert "Walker" not in (await phone.text("2"))[0]
    async with ctx.store.transaction() as session:
        assert not any(s.no_show for s in (await session.exec(select(Signup))).all())
        held = await session.get(Person, lead.id)
        assert held is not None
        held.telegram_id = 8000
        session.add(held)
    chat = Chat(Dialogue(ctx), address="8000", telegram_id=8000)
    await chat.act(f"att:{shift_id}")
    assert "[x] Walker 0" in chat.labels and "[ ] Walker 1" in chat.labels
    await chat.tap("Walker 1")
    assert "[x] Walker 1" in chat.labels
    done = await chat.tap("Klart")
    assert "2 var med, 1 uteblev" in done
    async with ctx.store.transaction() as session:
        absent = await session.get(Person, world.walkers[2].id)  # type: ignore[attr-defined]
        assert absent is not None and absent.no_show_count == 1
        rows = (await session.exec(select(Signup))).all()
    assert sorted(s.no_show for s in rows) == [False, False, True]


async def test_a_volunteer_may_not_mark_attendance(ctx: Context, clock: ManualClock) -> None:
    world, shift_id = await walked(ctx, clock)
    walker = world.walkers[1]  # type: ignore[attr-defined]
    chat = Chat(Dialogue(ctx), address=str(walker.telegram_id), telegram_id=walker.telegram_id)
    assert "behörighet" in await chat.act(f"att:{shift_id}")


async def test_the_question_waits_for_the_morning(ctx: Context, clock: ManualClock) -> None:
    """A night walk's lead is not woken for bookkeeping: the question is held to 08:00."""
    _, _ = await walked(ctx, clock)
    await compute_due(ctx)
    (asked,) = await outbox(ctx, Kind.ATTENDANCE_CHECK)
    assert asked.due_at.astimezone(ctx.zone).strftime("%H:%M") == "08:00"
