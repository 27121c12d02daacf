"""Partners (police contact, ordningsvakter, fritidsledare, Kalmar City): added with
``vandra people add --role partner``; in chat and by SMS they may set their language and see
their own data, nothing else (every other command or button answers with "behörighet");
through a whole weekend of calls, alerts, alarms, broadcasts and reminders the only message a
partner gets is the morning picture, once per night with walks."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.bootstrap_ticks import make_ticker
from bot.dialogue.engine import Dialogue
from models.tables import OutboxMessage, Role, Signup
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages import broadcast
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.people.inactivity import inactive_people
from scheduling.walks import signups
from scheduling.walks.alarms import raise_alarm
from tests.fakes.chat import Chat
from tests.followup_world import file_flagged_report, walked_night
from tests.helpers import OPERATOR
from tests.test_cli import vandra  # noqa: F401  (the fixture)
from tests.test_sms import Phone, client_for, sms_ctx
from tests.world import make_world, person, shift_at

REFUSED = "behörighet"


def test_people_add_role_partner(vandra) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The command line adds a partner and lists them with their role."""
    code, out, err = vandra("people", "add", "--name", "Polisen Kalmar", "--phone", "0705550000",
                            "--role", "partner")
    assert code == 0, err
    code, out, _ = vandra("people", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["role"] == "partner" and listed["organisation"] in (None, "")


async def signups_of(ctx: Context, person_id: int) -> list[Signup]:
    async with ctx.store.sessions() as session:
        return list((await session.exec(
            select(Signup).where(col(Signup.person_id) == person_id))).all())


async def test_a_partner_in_telegram_gets_the_welcome_and_nothing_else(
    ctx: Context, clock: ManualClock
) -> None:
    """Added by the operator, the partner's first /start asks for consent, then welcomes
    them (no list of shifts); /pass, /mina, /rapport, staff commands, a deep link and forged
    buttons are refused with "behörighet" and sign them up for nothing; /mina_data and the
    language work."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    partner = await directory.add_person(ctx, OPERATOR, name="Polisen Kalmar",
                                         telegram_id=9500, role=Role.PARTNER)
    chat = Chat(Dialogue(ctx), address="9500", telegram_id=9500, name="Polisen")
    consent = await chat.command("start")
    assert "Godkänner du" in consent or "godkänn" in consent.lower(), consent
    welcome = await chat.tap("godkänner")
    assert "lägesbild" in welcome.lower() and f"Pass {shift.id}" not in welcome
    for command in ("shifts", "my", "report", "alarm", "followups", "staffing", "stats"):
        assert REFUSED in await chat.command(command), command
    for action in (f"signup:{shift.id}", f"shift:{shift.id}", "menu", "fu:show:1",
                   f"bc:all:{shift.id}"):
        assert REFUSED in await chat.act(action), action
    assert "lägesbild" in (await chat.command("start", f"pass_{shift.id}")).lower()
    assert REFUSED in await chat.say("hej")
    await chat.command("mydata")
    document = chat.replies[0].document
    assert document is not None and b"Polisen Kalmar" in document.content
    await chat.command("language")
    assert "English" in " ".join(chat.labels)
    assert await signups_of(ctx, partner.id or 0) == []


async def test_a_partner_by_sms_is_refused_the_walkers_keywords(ctx: Context) -> None:
    """PASS, JA <id>, MINA: refused with "behörighet" (GSM-7); MINA DATA answers."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    partner = await person(ctx, "Fritid Kalmar", role=Role.PARTNER, phone="0705550001")
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        phone = Phone(client, "+46705550001")
        for body in ("PASS", f"JA {shift.id}", "MINA", f"RAPPORT {shift.id}"):
            (reply,) = await phone.text(body)
            assert REFUSED in reply, (body, reply)
        first, refused = await phone.text("LARM")  # no alarm, but 112 first, always
        assert first.startswith("Är någon i fara: ring 112 nu.") and REFUSED in refused
        assert "Fritid Kalmar" in (await phone.text("MINA DATA"))[0]
    assert await signups_of(ctx, partner.id or 0) == []


@pytest.mark.slow
async def test_a_weekend_brings_a_partner_only_the_morning_picture(
    ctx: Context, clock: ManualClock
) -> None:
    """Friday's walk (walked, an alarm, a flagged report), Saturday's understaffed walk (calls
    for walkers, staffing notices, the final check, reminders, a safety alert when nobody
    checks out), broadcasts to everyone and to the organisation: ticked hour by hour from
    Thursday to Monday, the partners' outbox holds the morning picture of each night and
    nothing else."""
    night = await walked_night(ctx, clock)
    world = night.world
    police = await person(ctx, "Polisen Kalmar", role=Role.PARTNER, telegram_id=9500)
    guards = await person(ctx, "Ordningsvakterna", role=Role.PARTNER, phone="0705550002")
    clock.set(night.shift.start_at - timedelta(days=1))
    saturday = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00", min_walkers=3)
    await signups.sign_up(ctx, world.walkers[0].id or 0, saturday.id or 0)
    coordinator = Actor.of(world.coordinator, "telegram")
    await broadcast.broadcast(ctx, coordinator, "Tack alla!", broadcast.Audience())
    await broadcast.call_for_walkers(ctx, coordinator, saturday.id or 0, "everyone")
    ticker = make_ticker(ctx)
    clock.set(night.shift.start_at - timedelta(days=2))
    while clock.now() < night.shift.start_at + timedelta(hours=1):
        await ticker.tick()
        clock.advance(timedelta(hours=2))
    await signups.check_in(ctx, world.walkers[1].id or 0, night.shift.id or 0)
    await raise_alarm(ctx, Actor.of(world.walkers[1], "telegram"), "hjälp")
    clock.set(night.shift.end_at + timedelta(minutes=20))
    await file_flagged_report(ctx, night)
    while clock.now() < saturday.end_at + timedelta(days=1, hours=12):
        await ticker.tick()
        if saturday.start_at <= clock.now() < saturday.start_at + timedelta(hours=1):
            await signups.check_in(ctx, world.walkers[0].id or 0, saturday.id or 0)
        clock.advance(timedelta(hours=1))
    async with ctx.store.sessions() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    kinds = {m.kind for m in rows}
    assert {"broadcast", "call_for_walkers", "staffing_notice", "alarm", "follow_up_opened",
            "reminder", "safety_alert", "report_prompt", "morning_picture"} <= kinds, kinds
    for partner in (police, guards):
        theirs = [m for m in rows if m.person_id == partner.id]
        assert [m.kind for m in theirs] == ["morning_picture", "morning_picture"], theirs
        assert [m.payload["night"] for m in theirs] == ["2026-11-27", "2026-11-28"]


async def test_a_quiet_partner_is_not_retired_as_inactive(
    ctx: Context, clock: ManualClock
) -> None:
    """A partner never writes (they only receive the morning picture): after the inactivity
    period they get no notice and are not erased; a quiet volunteer is."""
    partner = await person(ctx, "Polisen Kalmar", role=Role.PARTNER, telegram_id=9500)
    walker = await person(ctx, "Tyst Vandrare", telegram_id=9501)
    clock.advance(timedelta(days=ctx.settings.privacy.inactive_person_days + 1))
    quiet = {p.id for p in await inactive_people(ctx, clock.now())}
    assert walker.id in quiet and partner.id not in quiet
