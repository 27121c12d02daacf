"""The overdue check-out alert and a check-out by SMS: ``UT <id>`` names its sender by a number
anyone can forge, so one such check-out never silences the alert for the rest of the group,
and while the alert waits for that walker it is confirmed with a one-time code texted to the
number (``UT <id> <code>``), as acknowledging the alert is."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import col, select

from bot.channels.gsm7 import is_gsm7
from bot.dialogue.engine import Dialogue
from models.tables import Shift, Signup
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.walks import signups
from scheduling.walks.safety import open_alerts
from tests.fakes.chat import Chat
from tests.test_sms import Phone, client_for, sms_ctx
from tests.world import World, make_world, outbox, shift_at


async def overdue(ctx: Context, clock: ManualClock, walkers: int = 3) -> tuple[World, Shift]:
    """A 21-01 walk; everyone checked in at the start; the clock 45 min past the end, the
    alert open."""
    world = await make_world(ctx, walkers=walkers)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.start_at + timedelta(minutes=5))
    for walker in world.walkers:
        await signups.check_in(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(minutes=45))
    await compute_due(ctx)
    assert len(await open_alerts(ctx)) == 1
    return world, shift


async def test_a_bare_sms_check_out_does_not_silence_the_alert_for_the_others(
    ctx: Context, clock: ManualClock
) -> None:
    """A (perhaps forged) ``UT <id>`` from one walker's number: the alert stays open and
    repeats, naming the two still out."""
    world, shift = await overdue(ctx, clock)
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        await Phone(client, world.walkers[0].phone or "").text(f"UT {shift.id}")
    clock.advance(timedelta(minutes=15))
    await compute_due(ctx)
    assert [a.shift_id for a in await open_alerts(ctx)] == [shift.id]
    repeated = [m for m in await outbox(ctx, Kind.SAFETY_ALERT) if m.payload["repetition"] == 2]
    assert {m.person_id for m in repeated} == world.managers


async def _checked_out(ctx: Context, shift: Shift) -> set[int]:
    async with ctx.store.sessions() as session:
        rows = await session.exec(
            select(Signup.person_id).where(
                col(Signup.shift_id) == shift.id, col(Signup.checked_out_at).is_not(None)
            )
        )
        return set(rows.all())


def _code(reply: str, shift: Shift) -> str:
    found = re.search(rf"UT {shift.id} (\d{{4}})", reply)
    assert found, reply
    return found.group(1)


async def test_sms_check_out_during_an_open_alert_needs_the_one_time_code(
    ctx: Context, clock: ManualClock
) -> None:
    """While the alert waits for them, ``UT <id>`` texts a code to the walker's number and
    checks out nobody; a wrong code changes nothing; ``UT <id> <code>`` checks out. Once all
    have checked out the alert is resolved."""
    world, shift = await overdue(ctx, clock, walkers=1)
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        phone = Phone(client, world.walkers[0].phone or "")
        (asked,) = await phone.text(f"UT {shift.id}")
        assert "säkerhetslarm" in asked and is_gsm7(asked), asked
        code = _code(asked, shift)
        assert await _checked_out(ctx, shift) == set()
        wrong = "0000" if code != "0000" else "1111"
        assert "Fel kod" in (await phone.text(f"UT {shift.id} {wrong}"))[0]
        assert await _checked_out(ctx, shift) == set()
        (done,) = await phone.text(f"UT {shift.id} {code}")
        assert "Utcheckad" in done, done
    assert await _checked_out(ctx, shift) == {world.walkers[0].id}
    await compute_due(ctx)
    assert await open_alerts(ctx) == []


async def test_without_an_open_alert_or_in_telegram_a_check_out_needs_no_code(
    ctx: Context, clock: ManualClock
) -> None:
    """No alert yet (at the end): ``UT <id>`` checks out at once. During the alert, Telegram
    (which proves who writes) checks out at once too; so does an SMS from a walker the alert
    no longer waits for."""
    world, shift = await overdue(ctx, clock, walkers=2)
    first, second = world.walkers
    telegram = Chat(Dialogue(ctx), address=str(first.telegram_id), telegram_id=first.telegram_id)
    assert "Utcheckad" in await telegram.act(f"out:{shift.id}")
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        (again,) = await Phone(client, first.phone or "").text(f"UT {shift.id}")
        assert "redan ut" in again, again
        (asked,) = await Phone(client, second.phone or "").text(f"UT {shift.id}")
        assert "säkerhetslarm" in asked and "Utcheckad" not in asked, asked
    assert await _checked_out(ctx, shift) == {first.id}
    later = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00")
    await signups.sign_up(ctx, second.id or 0, later.id or 0)
    clock.set(later.start_at)
    await signups.check_in(ctx, second.id or 0, later.id or 0)
    async with client_for(ctx) as client:
        (done,) = await Phone(client, second.phone or "").text(f"UT {later.id}")
    assert "Utcheckad" in done, done
