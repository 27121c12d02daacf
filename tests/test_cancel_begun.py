"""A shift that has begun cannot be cancelled: its group may be out walking, and a cancelled
shift takes no alarm and raises no overdue check-out alert. Every way of cancelling (the core,
the chat's "Ställ in" and the final check's INSTÄLL, the command line, giving a night back)
goes through the one rule; a shift that should end early has its end moved instead."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.dialogue.engine import Dialogue
from models.tables import Shift, ShiftStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.due import compute_due
from scheduling.people.access import Actor
from scheduling.walks import signups
from scheduling.walks.alarms import raise_alarm
from scheduling.walks.editing import ShiftChange, edit_shift
from scheduling.walks.safety import open_alerts
from scheduling.walks.shifts import cancel_shift
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR
from tests.test_alarm import on_a_walk
from tests.test_cli import seed
from tests.test_cli import vandra as vandra  # the fixture, re-exported
from tests.world import stored_row

ZONE = ZoneInfo("Europe/Stockholm")


async def _status(ctx: Context, shift_id: int) -> str:
    return (await stored_row(ctx, Shift, shift_id)).status


async def test_a_begun_shift_is_not_cancelled_and_its_alarm_and_alert_still_work(
    ctx: Context, clock: ManualClock
) -> None:
    """At 22:00 on a 21-01 walk with everyone checked in, neither the lead nor the operator
    may cancel it (``cancel_begun``); a walker's alarm still reaches the group, and the group
    that never checks out still raises the overdue check-out alert."""
    world, shift = await on_a_walk(ctx, clock)
    for walker in world.walkers:
        await signups.check_in(ctx, walker.id or 0, shift.id or 0)
    for actor in (Actor.of(world.lead, "telegram"), OPERATOR):
        with pytest.raises(DomainError) as refused:
            await cancel_shift(ctx, actor, shift.id or 0, "regn")
        assert refused.value.code == "cancel_begun"
    assert await _status(ctx, shift.id or 0) == ShiftStatus.PLANNED
    raised = await raise_alarm(ctx, Actor.of(world.walkers[0], "telegram"), "hjälp")
    assert raised.new and raised.alerted > 0
    clock.set(shift.end_at + timedelta(hours=1))
    await compute_due(ctx)
    assert [a.shift_id for a in await open_alerts(ctx)] == [shift.id]


async def test_the_minute_it_begins_it_can_no_longer_be_cancelled(
    ctx: Context, clock: ManualClock
) -> None:
    """A minute before the start the shift is cancelled as always; at the start it is not."""
    world, shift = await on_a_walk(ctx, clock)
    clock.set(shift.start_at)
    with pytest.raises(DomainError, match="cancel_begun"):
        await cancel_shift(ctx, OPERATOR, shift.id or 0)
    clock.set(shift.start_at - timedelta(minutes=1))
    await cancel_shift(ctx, Actor.of(world.lead, "telegram"), shift.id or 0)
    assert await _status(ctx, shift.id or 0) == ShiftStatus.CANCELLED


async def test_a_begun_shift_ends_early_by_moving_its_end(
    ctx: Context, clock: ManualClock
) -> None:
    """What the refusal suggests works: the lead moves the begun shift's end to now."""
    world, shift = await on_a_walk(ctx, clock)
    new_end = ctx.now().astimezone(ctx.zone).replace(tzinfo=None)
    moved = await edit_shift(
        ctx, Actor.of(world.lead, "telegram"), shift.id or 0, ShiftChange(end=new_end)
    )
    assert moved.end_at == ctx.now() and moved.status == ShiftStatus.PLANNED


@pytest.mark.parametrize("action", ["sc:{id}", "sc:{id}:yes", "cancelshift:{id}"])
async def test_chat_refuses_cancelling_a_begun_shift_saying_what_to_do(
    ctx: Context, clock: ManualClock, action: str
) -> None:
    """The card's "Ställ in" (asked, and confirmed) and the final check's INSTÄLL in Telegram:
    refused at once, no confirmation asked, with a word to move the end instead."""
    _, shift = await on_a_walk(ctx, clock)
    coordinator = Chat(Dialogue(ctx), address="9000", telegram_id=9000, name="Maria")
    reply = await coordinator.act(action.format(id=shift.id))
    assert "har redan börjat och kan inte ställas in" in reply, reply
    assert "sluttid" in reply and not coordinator.labels, reply
    assert await _status(ctx, shift.id or 0) == ShiftStatus.PLANNED


def test_cli_refuses_cancelling_a_begun_shift(vandra) -> None:  # type: ignore[no-untyped-def]
    """``vandra shifts cancel ID`` on a shift that began an hour ago (and ends in three):
    refused with exit 2 and the refusal's words; the shift stays planned."""
    seed(vandra)
    now = datetime.now(ZONE)
    start, end = now - timedelta(hours=1), now + timedelta(hours=3)
    code, out, _ = vandra("shifts", "add", "--org", "IFK Kalmar", "--area", "Baronen",
                          "--start", f"{start:%Y-%m-%d %H:%M}", "--end", f"{end:%Y-%m-%d %H:%M}")
    assert code == 0
    shift_id = out.split()[0]
    code, _, err = vandra("shifts", "cancel", shift_id)
    assert code == 2 and "cannot be cancelled" in err and "end time" in err, err
    code, out, _ = vandra("shifts", "list", "--json")
    assert [s["status"] for s in json.loads(out)] == ["planned"]
