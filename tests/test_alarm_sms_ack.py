"""Acknowledging a walker's alarm by SMS: the alert texted to a lead says ``KVITTERA <ref>``;
that texts a one-time code to the number, and only ``KVITTERA <ref> <code>`` takes the alarm
(everyone alerted hears who, the repeats stop). A forged sender number without the code, a
guessed id, or a walker's number never silences it. All through Twilio-signed webhooks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.channels.gsm7 import is_gsm7
from bot.channels.sms_sender import sms_text
from bot.notifications import NotificationRenderer
from models.tables import Alarm, AlarmStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Recipient
from scheduling.messages.kinds import Kind
from scheduling.people.access import Actor
from scheduling.walks.alarm_repeat import repeat_alarms
from scheduling.walks.alarms import raise_alarm
from tests.test_alarm import expected_alerts, on_a_walk
from tests.test_sms import Phone, client_for, sms_ctx
from tests.world import World, outbox

TELEGRAM_COMMAND = re.compile(r"(^|\s)/[a-z_]+")


def _code(reply: str) -> str:
    found = re.search(r"\b(\d{4})\b", reply)
    assert found, reply
    return found.group(1)


async def _alarm(ctx: Context, world: World) -> tuple[int, str]:
    raised = await raise_alarm(ctx, Actor.of(world.walkers[0], "telegram"), "hjälp")
    (to_lead,) = [m for m in await outbox(ctx, Kind.ALARM) if m.person_id == world.lead.id]
    return raised.alarm_id, str(to_lead.payload["ref"])


async def _status(ctx: Context, alarm_id: int) -> Alarm:
    async with ctx.store.sessions() as session:
        alarm = (await session.exec(select(Alarm).where(Alarm.id == alarm_id))).one()
    return alarm


async def test_the_alarm_sms_tells_a_lead_how_to_acknowledge(
    ctx: Context, clock: ManualClock
) -> None:
    """The lead's SMS alert names the alarm by its random reference, never its id, in GSM-7
    and without a Telegram command; a walker's SMS copy has no way to acknowledge."""
    world, _ = await on_a_walk(ctx, clock)
    alarm_id, ref = await _alarm(ctx, world)
    assert re.fullmatch(r"[A-Z][A-Z0-9]{5}", ref)
    render = NotificationRenderer()
    alerts = await outbox(ctx, Kind.ALARM)
    to_lead = next(m for m in alerts if m.person_id == world.lead.id)
    lead = Recipient(world.lead.id or 0, "sv", None, world.lead.phone)
    text = sms_text(await render(Kind.ALARM, to_lead.payload, lead, ctx), "sv")
    assert f"Svara KVITTERA {ref}" in text and is_gsm7(text), text
    assert not TELEGRAM_COMMAND.search(text)
    walker = world.walkers[1]
    to_walker = next(m for m in alerts if m.person_id == walker.id and m.only_channel == "sms")
    plain = Recipient(walker.id or 0, "sv", None, walker.phone)
    assert "KVITTERA" not in sms_text(await render(Kind.ALARM, to_walker.payload, plain, ctx), "sv")
    english = Recipient(world.lead.id or 0, "en", None, world.lead.phone)
    assert f"ACK {ref}" in sms_text(await render(Kind.ALARM, to_lead.payload, english, ctx), "en")
    assert str(alarm_id) != ref


async def test_a_lead_acknowledges_an_alarm_by_sms_with_the_code(
    ctx: Context, clock: ManualClock
) -> None:
    """``KVITTERA <ref>`` texts a code; ``KVITTERA <ref> <code>`` acknowledges: everyone
    alerted (the walker too) is told who took it, and the coordinator's repeats stop."""
    world, _ = await on_a_walk(ctx, clock)
    alarm_id, ref = await _alarm(ctx, world)
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        lead = Phone(client, world.lead.phone or "")
        (ask,) = await lead.text(f"kvittera {ref.lower()}")
        assert f"KVITTERA {ref} " in ask and is_gsm7(ask), ask
        (done,) = await lead.text(f"KVITTERA {ref} {_code(ask)}")
    assert "kvitterat" in done and ref in done and is_gsm7(done), done
    alarm = await _status(ctx, alarm_id)
    assert alarm.status == AlarmStatus.ACKNOWLEDGED and alarm.acknowledged_by == world.lead.id
    told = {m.person_id for m in await outbox(ctx, Kind.ALARM_ACKNOWLEDGED)}
    everyone = set(expected_alerts(world, world.walkers[0].id or 0)) | {world.walkers[0].id}
    assert told == everyone - {world.lead.id}
    acks = await outbox(ctx, Kind.ALARM_ACKNOWLEDGED)
    assert {m.payload["by"] for m in acks} == {world.lead.name}
    clock.advance(timedelta(minutes=30))
    assert await repeat_alarms(ctx) == 0


async def test_a_forged_number_without_the_code_does_not_silence_the_alarm(
    ctx: Context, clock: ManualClock
) -> None:
    """Someone forging the lead's number (the code goes to the real phone, not to them): the
    reference alone, wrong codes (the code is void after three), the alarm's id, and a
    walker's own number with the reference all leave the alarm open, its repeats going on."""
    world, _ = await on_a_walk(ctx, clock)
    alarm_id, ref = await _alarm(ctx, world)
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        forger = Phone(client, world.lead.phone or "")
        (sent_to_the_real_phone,) = await forger.text(f"KVITTERA {ref}")
        real = _code(sent_to_the_real_phone)
        guesses = [g for g in ("0000", "1111", "2222", "3333", "4444") if g != real][:4]
        answers = [(await forger.text(f"KVITTERA {ref} {guess}"))[0] for guess in guesses]
        assert all("kvitterat" not in a and "Inget har ändrats" in a for a in answers), answers
        (late,) = await forger.text(f"KVITTERA {ref} {real}")  # void after three wrong guesses
        assert "kvitterat" not in late, late
        (by_id,) = await forger.text(f"KVITTERA {alarm_id}")
        assert "Telegram" in by_id
        walker = Phone(client, world.walkers[1].phone or "")
        (refused,) = await walker.text(f"KVITTERA {ref}")
        assert "behörighet" in refused
    assert (await _status(ctx, alarm_id)).status == AlarmStatus.OPEN
    assert await outbox(ctx, Kind.ALARM_ACKNOWLEDGED) == []
    clock.advance(timedelta(minutes=5))
    assert await repeat_alarms(ctx) == 1


async def test_a_forged_walkers_number_cannot_call_off_the_alarm_without_the_code(
    ctx: Context, clock: ManualClock
) -> None:
    """``FALSKT LARM`` by SMS silences an alarm for everyone alerted, so a forged sender
    number must not do it: the keyword alone texts a code to the walker's real phone and the
    alarm stays open (its repeats go on); a wrong code changes nothing; only ``FALSKT LARM
    <code>`` calls it off. The reply to ``LARM`` offers no numbered option that SMS refuses."""
    world, _ = await on_a_walk(ctx, clock)
    ctx = sms_ctx(ctx)
    raiser = world.walkers[0]
    async with client_for(ctx) as client:
        walker = Phone(client, raiser.phone or "")
        assert "FALSKT LARM" in (await walker.text("HJÄLP"))[-1]
        (raised,) = await walker.text("LARM kniv")
        assert "FALSKT LARM" in raised and "1=" not in raised, raised
        (forged,) = await walker.text("FALSKT LARM")
        assert "FALSKT LARM " in forged and is_gsm7(forged), forged
        assert not TELEGRAM_COMMAND.search(forged)
        real = _code(forged)
        (wrong,) = await walker.text(f"FALSKT LARM {'1111' if real != '1111' else '2222'}")
        assert "Inget har ändrats" in wrong, wrong
        async with ctx.store.sessions() as session:
            (alarm,) = (await session.exec(select(Alarm))).all()
        assert alarm.status == AlarmStatus.OPEN
        assert await outbox(ctx, Kind.ALARM_CANCELLED) == []
        clock.advance(timedelta(minutes=5))
        assert await repeat_alarms(ctx) == 1
        (again,) = await walker.text("FALSKT LARM")
        (done,) = await walker.text(f"falskt larm {_code(again)}")
    assert "återkallat" in done and is_gsm7(done), done
    assert (await _status(ctx, alarm.id or 0)).status == AlarmStatus.CANCELLED
    assert await outbox(ctx, Kind.ALARM_CANCELLED)


async def test_the_core_refuses_an_unconfirmed_sms_actor_calling_off_an_alarm(
    ctx: Context, clock: ManualClock
) -> None:
    """The core's own guard (as for erasing): an SMS actor without a confirmed code may not
    call an alarm off; confirmed, or in Telegram, it may."""
    from dataclasses import replace

    from scheduling.common.errors import PermissionDenied
    from scheduling.walks.alarm_changes import cancel_alarm

    world, _ = await on_a_walk(ctx, clock)
    raiser = world.walkers[0]
    raised = await raise_alarm(ctx, Actor.of(raiser, "sms"), "hjälp")
    by_sms = Actor.of(raiser, "sms")
    with pytest.raises(PermissionDenied):
        await cancel_alarm(ctx, by_sms)
    assert (await _status(ctx, raised.alarm_id)).status == AlarmStatus.OPEN
    await cancel_alarm(ctx, replace(by_sms, confirmed=True))
    assert (await _status(ctx, raised.alarm_id)).status == AlarmStatus.CANCELLED
