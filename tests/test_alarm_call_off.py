"""Calling off a false alarm has a time limit: an alarm of a shift that ended more than
``CALL_OFF_AFTER_END`` (the check-out window, 8 h) ago is no longer called off, so an old
"Falskt larm" button, ``/falskt_larm`` or ``FALSKT LARM`` weeks later cannot re-label a real
alarm that was acknowledged and tell its whole old audience it was false."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.dialogue.engine import Dialogue
from models.tables import Alarm, AlarmStatus, ConfirmationCode
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.kinds import Kind
from scheduling.people.access import Actor
from scheduling.walks.alarm_changes import CALL_OFF_AFTER_END, acknowledge_alarm, cancel_alarm
from scheduling.walks.alarms import raise_alarm
from tests.fakes.chat import Chat
from tests.test_alarm import on_a_walk
from tests.test_sms import Phone, client_for, sms_ctx
from tests.world import outbox, stored_row


async def _status(ctx: Context, alarm_id: int) -> str:
    return (await stored_row(ctx, Alarm, alarm_id)).status


async def test_an_old_acknowledged_alarm_is_not_called_off(
    ctx: Context, clock: ManualClock
) -> None:
    """Three weeks after a real alarm was acknowledged: the walker's /falskt_larm finds no
    alarm to call off, the old button's id answers as a stale button; the alarm stays
    acknowledged and nobody is told anything."""
    world, _ = await on_a_walk(ctx, clock)
    raiser = Actor.of(world.walkers[0], "telegram")
    raised = await raise_alarm(ctx, raiser, "slagsmål")
    await acknowledge_alarm(ctx, Actor.of(world.coordinator, "telegram"), raised.alarm_id)
    clock.advance(timedelta(days=21))
    with pytest.raises(DomainError, match="alarm_none_open"):
        await cancel_alarm(ctx, raiser)
    with pytest.raises(DomainError, match="stale_button"):
        await cancel_alarm(ctx, raiser, raised.alarm_id)
    assert await _status(ctx, raised.alarm_id) == AlarmStatus.ACKNOWLEDGED
    assert await outbox(ctx, Kind.ALARM_CANCELLED) == []


@pytest.mark.parametrize(("after_end", "called_off"), [
    (CALL_OFF_AFTER_END - timedelta(minutes=1), True),
    (CALL_OFF_AFTER_END + timedelta(minutes=1), False),
])
async def test_the_limit_is_the_shifts_end_and_the_check_out_window(
    ctx: Context, clock: ManualClock, after_end: timedelta, called_off: bool
) -> None:
    """The morning after, within the check-out window, a false alarm is still called off (and
    everyone alerted is told); a minute past the window it is not."""
    world, shift = await on_a_walk(ctx, clock)
    raiser = Actor.of(world.walkers[0], "telegram")
    raised = await raise_alarm(ctx, raiser, "")
    clock.set(shift.end_at + after_end)
    if called_off:
        await cancel_alarm(ctx, raiser, raised.alarm_id)
        assert await _status(ctx, raised.alarm_id) == AlarmStatus.CANCELLED
        assert await outbox(ctx, Kind.ALARM_CANCELLED) != []
    else:
        with pytest.raises(DomainError, match="stale_button"):
            await cancel_alarm(ctx, raiser, raised.alarm_id)
        assert await _status(ctx, raised.alarm_id) == AlarmStatus.OPEN
        assert await outbox(ctx, Kind.ALARM_CANCELLED) == []


async def test_old_button_and_command_in_chat_and_by_sms(
    ctx: Context, clock: ManualClock
) -> None:
    """In Telegram the old "Falskt larm" button answers as a stale button and /falskt_larm
    says there is no alarm to call off; by SMS ``FALSKT LARM`` says the same and texts no
    code. The alarm stays as it was."""
    world, _ = await on_a_walk(ctx, clock)
    walker = world.walkers[0]
    raised = await raise_alarm(ctx, Actor.of(walker, "telegram"), "hjälp")
    await acknowledge_alarm(ctx, Actor.of(world.coordinator, "telegram"), raised.alarm_id)
    clock.advance(timedelta(days=21))
    chat = Chat(Dialogue(ctx), address=str(walker.telegram_id), telegram_id=walker.telegram_id)
    assert "knappen gäller inte längre" in await chat.act(f"alarmoff:{raised.alarm_id}")
    assert "inget larm att återkalla" in await chat.command("false_alarm")
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        replies = await Phone(client, walker.phone or "").text("FALSKT LARM")
    assert any("inget larm att återkalla" in r for r in replies), replies
    async with ctx.store.sessions() as session:
        assert (await session.exec(select(ConfirmationCode))).all() == []
    assert await _status(ctx, raised.alarm_id) == AlarmStatus.ACKNOWLEDGED
    assert await outbox(ctx, Kind.ALARM_CANCELLED) == []
