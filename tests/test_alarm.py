"""The alarm: raised by SMS, Telegram and the console; alerts on both channels to the group,
the leads and the coordinators; the location; the repeats until acknowledged; a false alarm;
the priority over a full outbox."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.alarm_texts import map_link
from bot.channels.console import to_inbound
from bot.channels.gsm7 import is_gsm7, to_gsm7
from bot.dialogue.engine import Dialogue
from bot.notifications import NotificationRenderer
from models.tables import AlarmStatus, AuditEntry, Conversation, OutboxMessage, Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import PermissionDenied
from scheduling.messages.content import Recipient
from scheduling.messages.kinds import Kind, Priority
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.people.access import Actor
from scheduling.people.retention import apply_retention
from scheduling.walks import signups
from scheduling.walks.alarm_changes import acknowledge_alarm
from scheduling.walks.alarm_repeat import repeat_alarms
from scheduling.walks.alarms import LOCATION_KEPT, raise_alarm
from tests.fakes.chat import Chat
from tests.helpers import add_shift, seed_org_area
from tests.test_dashboard import press_sign_in
from tests.test_sms import Phone, client_for, sms_ctx, sms_walker
from tests.world import World, make_world, outbox, shift_at


async def on_a_walk(ctx: Context, clock: ManualClock, walkers: int = 3) -> tuple[World, Shift]:
    """A 21:00-01:00 walk with every walker signed up; the clock at 22:00, on the walk."""
    world = await make_world(ctx, walkers=walkers)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.start_at + timedelta(hours=1))
    return world, shift


def channels_by_person(messages: list[OutboxMessage]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for message in messages:
        found.setdefault(message.person_id or 0, set()).add(message.only_channel or "?")
    return found


def expected_alerts(world: World, raiser: int) -> dict[int, set[str]]:
    """The others on the shift on both channels; the lead by SMS, the coordinator in Telegram."""
    others = {w.id or 0: {"telegram", "sms"} for w in world.walkers if w.id != raiser}
    return {**others, world.lead.id or 0: {"sms"}, world.coordinator.id or 0: {"telegram"}}


async def test_larm_by_sms_says_112_at_once_and_alerts_everyone_on_both_channels(
    ctx: Context, clock: ManualClock
) -> None:
    """``LARM <text>`` through the signed webhook: the reply (GSM-7, no Telegram command)
    says 112 with the text; alerts for everyone alerted on every channel they have, urgent,
    ahead of anything (priority), audited."""
    world, _ = await on_a_walk(ctx, clock)
    ctx = sms_ctx(ctx)
    raiser = world.walkers[0]
    async with client_for(ctx) as client:
        (reply,) = await Phone(client, raiser.phone or "").text("LARM bråk vid stationen")
    assert "112" in reply and "bråk vid stationen" in reply and "FALSKT LARM" in reply
    assert is_gsm7(reply) and "/" not in reply
    alerts = await outbox(ctx, Kind.ALARM)
    assert channels_by_person(alerts) == expected_alerts(world, raiser.id or 0)
    assert all(m.priority == Priority.ALARM and m.urgent for m in alerts)
    assert all(m.payload["text"] == "bråk vid stationen" for m in alerts)
    async with ctx.store.sessions() as session:
        from sqlmodel import select

        audited = (await session.exec(select(AuditEntry.action))).all()
    assert "alarm.raise" in audited


@pytest.mark.parametrize("body", ["Larm!", "🚨 LARM: kniv"])
async def test_larm_typed_in_a_hurry_still_raises_the_alarm(
    ctx: Context, clock: ManualClock, body: str
) -> None:
    """Punctuation or an emoji around the keyword, as a frightened walker types it, raises
    the alarm like ``LARM`` and gets the 112 reply, not "Jag förstod inte"."""
    world, _ = await on_a_walk(ctx, clock)
    ctx = sms_ctx(ctx)
    raiser = world.walkers[0]
    async with client_for(ctx) as client:
        (reply,) = await Phone(client, raiser.phone or "").text(body)
    assert "112" in reply and "FALSKT LARM" in reply, reply
    alerts = await outbox(ctx, Kind.ALARM)
    assert channels_by_person(alerts) == expected_alerts(world, raiser.id or 0)


async def test_english_alarm_keyword_and_false_alarm_by_sms(
    ctx: Context, clock: ManualClock
) -> None:
    """``ALARM`` without text, then ``FALSKT LARM`` and the code it texts back: everyone
    alerted hears it was false."""
    world, _ = await on_a_walk(ctx, clock)
    ctx = sms_ctx(ctx)
    raiser = world.walkers[1]
    async with client_for(ctx) as client:
        phone = Phone(client, raiser.phone or "")
        assert "112" in (await phone.text("alarm"))[0]
        (ask,) = await phone.text("falskt larm")
        code = re.search(r"FALSKT LARM (\d{4})", ask)
        assert code, ask
        assert "återkallat" in (await phone.text(f"FALSKT LARM {code.group(1)}"))[0]
    cancelled = await outbox(ctx, Kind.ALARM_CANCELLED)
    told = channels_by_person(cancelled)
    assert set(told) == set(expected_alerts(world, raiser.id or 0))


async def test_codes_asked_for_erasing_leave_the_false_alarm_its_own(
    ctx: Context, clock: ManualClock
) -> None:
    """The hourly limit on codes is per purpose: ``RADERA`` asked until refused (perhaps from
    a forged number) still lets the walker call off a false alarm by SMS."""
    world, _ = await on_a_walk(ctx, clock)
    ctx = sms_ctx(ctx)
    raiser = world.walkers[1]
    async with client_for(ctx) as client:
        phone = Phone(client, raiser.phone or "")
        for _ in range(3):
            assert re.search(r"RADERA \d{4}", (await phone.text("RADERA"))[0])
        assert "flera koder" in (await phone.text("RADERA"))[0]
        assert "112" in (await phone.text("LARM"))[0]
        (ask,) = await phone.text("FALSKT LARM")
        code = re.search(r"FALSKT LARM (\d{4})", ask)
        assert code, ask
        assert "återkallat" in (await phone.text(f"FALSKT LARM {code.group(1)}"))[0]
    assert await outbox(ctx, Kind.ALARM_CANCELLED)


async def test_larm_in_telegram_with_a_location_and_the_button_on_the_card(
    ctx: Context, clock: ManualClock
) -> None:
    """The card of the shift one is on has "🚨 Larm"; ``/larm`` with text, then a shared
    location goes to everyone alerted with a map link; "Falskt larm" calls it off."""
    world, shift = await on_a_walk(ctx, clock)
    walker = world.walkers[0]
    chat = Chat(Dialogue(ctx), address=str(walker.telegram_id), telegram_id=walker.telegram_id)
    await chat.act(f"shift:{shift.id}")
    assert "🚨 Larm" in chat.labels
    text = await chat.command("alarm", "någon är skadad")
    assert "112" in text and "någon är skadad" in text
    false_alarm = chat.action_of("Falskt larm")
    await chat.act("loc:56.66123:16.36234")
    assert "skickad" in chat.text
    located = await outbox(ctx, Kind.ALARM_LOCATION)
    assert set(channels_by_person(located)) == set(expected_alerts(world, walker.id or 0))
    assert located[0].payload["lat"] == pytest.approx(56.66123)
    await chat.act("loc:56.66200:16.36300:live")  # a live location's update: kept, not answered
    assert chat.replies == []
    assert "återkallat" in await chat.act(false_alarm)
    assert await outbox(ctx, Kind.ALARM_CANCELLED)


async def test_a_location_shared_first_goes_with_the_alarm(
    ctx: Context, clock: ManualClock
) -> None:
    world, _ = await on_a_walk(ctx, clock)
    walker = world.walkers[0]
    chat = Chat(Dialogue(ctx), address=str(walker.telegram_id), telegram_id=walker.telegram_id)
    await chat.act("loc:56.66:16.36")
    assert "sparad" in chat.text
    await chat.command("alarm")
    (alert, *_) = await outbox(ctx, Kind.ALARM)
    assert (alert.payload["lat"], alert.payload["lon"]) == (56.66, 16.36)


async def _kept_locations(ctx: Context) -> list[object]:
    async with ctx.store.transaction() as session:
        rows = (await session.exec(select(Conversation))).all()
    return [row.data["location"] for row in rows if "location" in row.data]


@pytest.mark.parametrize("then", ["next turn", "retention"])
async def test_a_location_kept_for_an_alarm_is_forgotten_after_15_minutes(
    ctx: Context, clock: ManualClock, then: str
) -> None:
    """"Platsen är sparad i 15 minuter": after that it is gone from the conversation, on the
    person's next turn or, if they never write again, by the daily retention run (found by
    review 2: it stayed until the next alarm, for ever)."""
    world = await make_world(ctx, walkers=1)
    walker = world.walkers[0]
    chat = Chat(Dialogue(ctx), address=str(walker.telegram_id), telegram_id=walker.telegram_id)
    assert "sparad" in await chat.act("loc:56.67001:16.35002")
    clock.set(ctx.now() + LOCATION_KEPT - timedelta(seconds=1))
    await chat.command("my")
    assert await _kept_locations(ctx)  # still fresh: kept for an alarm
    clock.set(ctx.now() + timedelta(seconds=2))
    if then == "next turn":
        await chat.command("my")
    else:
        clock.set(ctx.now() + LOCATION_KEPT)  # long enough after the last turn too
        await apply_retention(ctx)
    assert await _kept_locations(ctx) == []


async def test_vandra_chat_raises_the_alarm(ctx: Context, clock: ManualClock) -> None:
    """The console's ``/larm text`` is the same command."""
    world, _ = await on_a_walk(ctx, clock)
    walker = world.walkers[2]
    inbound = to_inbound("/larm hjälp oss", "console", walker.phone, walker.name)
    assert inbound.command == "alarm" and inbound.args == "hjälp oss"
    replies = await Dialogue(ctx).handle(inbound)
    assert "112" in replies[0].text
    assert len(await outbox(ctx, Kind.ALARM)) == 6  # 2 walkers x 2, the lead, the coordinator


async def test_no_shift_now_still_says_112_and_raises_nothing(
    ctx: Context, clock: ManualClock
) -> None:
    """Before check-in opens or after the shift has ended: 112, and why no alarm went."""
    world, shift = await on_a_walk(ctx, clock)
    walker = world.walkers[0]
    chat = Chat(Dialogue(ctx), address=str(walker.telegram_id), telegram_id=walker.telegram_id)
    for moment in (shift.start_at - timedelta(hours=1, minutes=1), shift.end_at + timedelta(1)):
        clock.set(moment)
        text = await chat.command("alarm", "hjälp")
        assert "112" in text and "inget larm" in text
    clock.set(shift.start_at - timedelta(hours=1))  # check-in opens: the alarm works
    await chat.command("alarm")
    assert await outbox(ctx, Kind.ALARM)


async def test_the_coordinator_is_alerted_every_5_minutes_until_acknowledged(
    ctx: Context, clock: ManualClock
) -> None:
    """Repeats to the coordinator every 5 minutes (once each, however often it runs); a
    walker may not acknowledge; the coordinator's button does: the repeats stop and everyone
    alerted, the walker too, is told who took it."""
    world, _ = await on_a_walk(ctx, clock)
    raiser = world.walkers[0]
    raised = await raise_alarm(ctx, Actor.of(raiser, "telegram"), "hjälp")
    clock.advance(timedelta(minutes=4, seconds=59))
    assert await repeat_alarms(ctx) == 0
    clock.advance(timedelta(seconds=1))
    assert await repeat_alarms(ctx) == 1
    assert await repeat_alarms(ctx) == 0
    clock.advance(timedelta(minutes=5))
    assert await repeat_alarms(ctx) == 1
    repeats = [m for m in await outbox(ctx, Kind.ALARM) if m.payload.get("repetition")]
    assert {m.person_id for m in repeats} == {world.coordinator.id}
    assert [m.payload["repetition"] for m in repeats] == [1, 2]
    walker_chat = Chat(Dialogue(ctx), address="1001", telegram_id=world.walkers[1].telegram_id)
    assert "behörighet" in await walker_chat.act(f"alarmack:{raised.alarm_id}")
    coordinator = Chat(Dialogue(ctx), address="9000", telegram_id=9000)
    assert "kvitterat" in await coordinator.act(f"alarmack:{raised.alarm_id}")
    clock.advance(timedelta(minutes=30))
    assert await repeat_alarms(ctx) == 0
    told = channels_by_person(await outbox(ctx, Kind.ALARM_ACKNOWLEDGED))
    everyone = set(expected_alerts(world, raiser.id or 0)) | {raiser.id or 0}
    assert set(told) == everyone - {world.coordinator.id or 0}
    (ack,) = [m for m in await outbox(ctx, Kind.ALARM_ACKNOWLEDGED)][:1]
    assert ack.payload["by"] == world.coordinator.name
    with pytest.raises(PermissionDenied):  # a lead's power: never by an SMS alone
        await acknowledge_alarm(ctx, Actor.of(world.lead, "sms"), raised.alarm_id)
    again = await acknowledge_alarm(ctx, Actor.of(world.lead, "telegram"), raised.alarm_id)
    assert again.status == AlarmStatus.ACKNOWLEDGED
    assert again.acknowledged_by == world.coordinator.id


async def test_alerts_are_not_held_by_quiet_hours(ctx: Context, clock: ManualClock) -> None:
    """At 23:30 (inside 22:00-08:00) the alerts are due at once."""
    world, shift = await on_a_walk(ctx, clock)
    clock.set(shift.start_at + timedelta(hours=2, minutes=30))
    await raise_alarm(ctx, Actor.of(world.walkers[0], "telegram"))
    assert {m.due_at for m in await outbox(ctx, Kind.ALARM)} == {clock.now()}


async def test_alert_words_by_channel_and_role(ctx: Context, clock: ManualClock) -> None:
    """The coordinator in Telegram: who, which shift and area, the text, the map link, the
    walker's number and the acknowledge button. A walker of the group by SMS: GSM-7, no
    number, no button, no Telegram command."""
    world, _ = await on_a_walk(ctx, clock)
    raiser = world.walkers[0]
    await raise_alarm(ctx, Actor.of(raiser, "sms"), "slagsmål", location=(56.6612, 16.3623))
    alerts = await outbox(ctx, Kind.ALARM)
    render = NotificationRenderer()
    to_coordinator = next(m for m in alerts if m.person_id == world.coordinator.id)
    coordinator = await render(
        Kind.ALARM, to_coordinator.payload, Recipient(world.coordinator.id or 0, "sv", 9000), ctx
    )
    link = map_link(56.6612, 16.3623)
    assert link == "https://www.openstreetmap.org/?mlat=56.66120&mlon=16.36230"
    for part in (raiser.name, "Baronen", "slagsmål", link, raiser.phone, "112"):
        assert part is not None and part in coordinator.text, part
    ack = f"alarmack:{to_coordinator.payload['alarm_id']}"
    assert [o.action for o in coordinator.options] == [ack]
    walker = world.walkers[1]
    to_walker = next(m for m in alerts if m.person_id == walker.id and m.only_channel == "sms")
    by_sms = Recipient(walker.id or 0, "en", None, walker.phone)
    sms = await render(Kind.ALARM, to_walker.payload, by_sms, ctx)
    assert "ALARM" in sms.text and not sms.options and (raiser.phone or "") not in sms.text
    assert not re.search(r"(^|\s)/[a-z]", sms.text)  # no Telegram command
    assert is_gsm7(to_gsm7(sms.text)) and (link or "") in sms.text


async def test_an_alarm_goes_ahead_of_a_full_outbox(ctx: Context, clock: ManualClock) -> None:
    """5,000 messages queued before it: the dispatcher's next claim takes the alarm rows first,
    and the express lane sends them, and only them, at once."""
    from scheduling.workers.dispatcher import Dispatcher
    from scheduling.workers.express import ExpressLane
    from tests.fakes.senders import RecordingSender, plain_renderer

    world, _ = await on_a_walk(ctx, clock)
    now = clock.now()
    queued = [
        NewMessage(key=f"broadcast:1:n:{n}", kind=Kind.BROADCAST,
                   person_id=world.walkers[n % 3].id or 0, due_at=now - timedelta(minutes=1),
                   payload={"text": "hej"})
        for n in range(5000)
    ]
    async with ctx.store.transaction() as session:
        assert await enqueue_many(session, queued, now) == 5000
    await raise_alarm(ctx, Actor.of(world.walkers[0], "telegram"), "hjälp")
    senders = {"telegram": RecordingSender("telegram"), "sms": RecordingSender("sms")}
    dispatcher = Dispatcher(ctx, senders, plain_renderer, batch_size=3)
    express = ExpressLane(dispatcher)
    assert await express.pass_once() == 6
    await express.drain()
    sent = [s for sender in senders.values() for s in sender.sent]
    assert len(sent) == 6 and all(s.message.text.startswith("alarm") for s in sent)
    await raise_alarm(ctx, Actor.of(world.walkers[1], "telegram"))
    report = await dispatcher.dispatch_once()
    assert report.sent == 6  # three a channel: the new alarm's rows come before the broadcast
    latest = [s.message.text for sender in senders.values() for s in sender.sent[-3:]]
    assert all(text.startswith("alarm") for text in latest)  # none of the 5,000 yet


async def test_the_dashboard_shows_an_open_alarm_and_acknowledges_it(
    ctx: Context, clock: ManualClock
) -> None:
    """The coordinator sees the open alarm above the calendar (who, where, the text, the
    map) and acknowledges it there: it is gone from the page, and the others are told."""
    import httpx

    from bot.dashboard import dashboard_routes, issue_dashboard_link
    from bot.http import build_app

    world, _ = await on_a_walk(ctx, clock)
    raiser = world.walkers[0]
    await raise_alarm(ctx, Actor.of(raiser, "sms"), "bråk <b>", location=(56.66, 16.36))
    app = build_app(ctx, {}, dashboard_routes(ctx))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vandra.test") as client:
        link = await issue_dashboard_link(ctx, Actor.of(world.coordinator, "telegram"))
        await press_sign_in(client, "/dashboard/login/" + link.rsplit("/", 1)[-1])
        page = (await client.get("/dashboard/")).text
        assert "Öppna larm (1)" in page and raiser.name in page and "bråk &lt;b&gt;" in page
        assert "openstreetmap.org/?mlat=56.66000&amp;mlon=16.36000" in page
        (alarm_id,) = re.findall(r"/dashboard/alarms/(\d+)/acknowledge", page)
        forged = await client.post(f"/dashboard/alarms/{alarm_id}/acknowledge",
                                   data={"csrf": "forged"})
        assert forged.status_code == 403 and "Öppna larm (1)" in (
            await client.get("/dashboard/")).text
        (token,) = re.findall(r'name="csrf" value="([^"]+)"', page)
        for unknown in ("999999", "99999999999999999999"):  # none; beyond the integers
            missing = await client.post(f"/dashboard/alarms/{unknown}/acknowledge",
                                        data={"csrf": token})
            assert missing.status_code == 404, (unknown, missing.status_code)
        done = await client.post(f"/dashboard/alarms/{alarm_id}/acknowledge",
                                 data={"csrf": token})
        assert done.status_code == 303
        assert "Öppna larm" not in (await client.get("/dashboard/")).text
    told = channels_by_person(await outbox(ctx, Kind.ALARM_ACKNOWLEDGED))
    assert world.coordinator.id not in told and raiser.id in told


async def test_alarms_are_counted_in_the_statistics(ctx: Context, clock: ManualClock) -> None:
    """An alarm counts; one called off counts as a false alarm."""
    from evaluation.statistics import statistics_for
    from scheduling.walks.alarm_changes import cancel_alarm

    world, shift = await on_a_walk(ctx, clock)
    await raise_alarm(ctx, Actor.of(world.walkers[0], "telegram"), "hjälp")
    await raise_alarm(ctx, Actor.of(world.walkers[1], "telegram"))
    await cancel_alarm(ctx, Actor.of(world.walkers[1], "telegram"))
    day = shift.start_at.astimezone(ctx.zone).date()
    report = await statistics_for(ctx, day, day, None)
    assert (report.overall.alarms, report.overall.false_alarms) == (1, 1)
    coordinator = Chat(Dialogue(ctx), address="9000", telegram_id=9000)
    assert "Larm: 1 (1 falska)" in await coordinator.command("stats", f"{day} {day}")


async def test_group_lead_is_proposed_named_and_shown(ctx: Context, clock: ManualClock) -> None:
    """The trained walker who signed up first is proposed; the lead (or coordinator) names
    another walker in chat (a walker may not); the card, the reminder and the alarm say who."""
    world, shift = await on_a_walk(ctx, clock)
    walker = world.walkers[0]
    chat = Chat(Dialogue(ctx), address=str(walker.telegram_id), telegram_id=walker.telegram_id)
    coordinator = Chat(Dialogue(ctx), address="9000", telegram_id=9000)
    assert "behörighet" in await chat.act(f"gl:{shift.id}:{walker.id}")
    await coordinator.act(f"shift:{shift.id}")
    await coordinator.tap("Utse gruppledare")
    assert "Walker 2" in coordinator.labels
    assert "Walker 2 är gruppledare" in await coordinator.tap("Walker 2")
    card = await chat.act(f"shift:{shift.id}")
    assert "Gruppledare: Walker 2" in card and "förslag" not in card
    reminder = await NotificationRenderer()(
        Kind.REMINDER, {"shift_id": shift.id, "signup_id": 1}, Recipient(1, "sv", 1), ctx
    )
    assert "Gruppledare: Walker 2" in reminder.text
    await raise_alarm(ctx, Actor.of(walker, "telegram"))
    (alert, *_) = await outbox(ctx, Kind.ALARM)
    rendered = await NotificationRenderer()(Kind.ALARM, alert.payload, Recipient(9, "en", 9), ctx)
    assert "Group lead: Walker 2" in rendered.text


async def test_the_first_trained_walker_is_proposed(ctx: Context, clock: ManualClock) -> None:
    from scheduling.walks.group_lead import group_lead_of
    from tests.world import person

    world = await make_world(ctx, walkers=0)

    untrained = await person(ctx, "Ulla", org=world.org, telegram_id=2001)
    first = await person(ctx, "Tove", org=world.org, telegram_id=2002, trained=True)
    later = await person(ctx, "Tim", org=world.org, telegram_id=2003, trained=True)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    assert await group_lead_of(ctx, shift.id or 0) is None
    for someone in (untrained, first, later):
        await signups.sign_up(ctx, someone.id or 0, shift.id or 0)
    lead = await group_lead_of(ctx, shift.id or 0)
    assert lead is not None and (lead.name, lead.proposed) == ("Tove", True)
    chat = Chat(Dialogue(ctx), address="2001", telegram_id=2001)
    assert "Gruppledare: Tove (förslag" in await chat.act(f"shift:{shift.id}")


async def test_linking_a_phone_moves_alarms_and_the_group_lead(
    ctx: Context, clock: ManualClock
) -> None:
    """A walker who raised an alarm and leads the group, then shares the number an operator
    filed for them, becomes that record with both (nothing points at the removed record)."""
    from sqlmodel import select

    from models.tables import Alarm
    from scheduling.people import directory
    from scheduling.walks.group_lead import name_group_lead
    from scheduling.walks.phone_linking import link_phone
    from tests.helpers import OPERATOR

    world, shift = await on_a_walk(ctx, clock)
    filed = await directory.add_person(ctx, OPERATOR, name="Walker 0 K", phone="0709990001")
    walker = world.walkers[0]
    await name_group_lead(ctx, Actor.of(world.coordinator, "telegram"), shift.id or 0,
                          walker.id or 0)
    await raise_alarm(ctx, Actor.of(walker, "telegram"))
    async with ctx.store.transaction() as session:
        stored = await session.get(type(walker), walker.id)
        assert stored is not None
        stored.phone = None
        session.add(stored)
    merged = await link_phone(ctx, walker.id or 0, "+46709990001")
    assert merged.id == filed.id
    async with ctx.store.sessions() as session:
        (alarm,) = (await session.exec(select(Alarm))).all()
        moved = await session.get(Shift, shift.id)
    assert alarm.person_id == filed.id and moved is not None and moved.group_lead_id == filed.id


async def test_a_lead_cannot_acknowledge_an_alarm_by_sms(ctx: Context, clock: ManualClock) -> None:
    """A sender number can be forged: ``KVITTERA <alarm>`` from the lead's number is refused
    (done in Telegram or on the dashboard) and the alarm stays open, its repeats going on."""
    from scheduling.people import directory

    world, _ = await on_a_walk(ctx, clock)
    raised = await raise_alarm(ctx, Actor.of(world.walkers[0], "telegram"), "hjälp")
    await directory.record_consent(ctx, world.lead.id or 0)
    async with client_for(sms_ctx(ctx)) as client:
        (answer,) = await Phone(client, world.lead.phone or "").text(f"KVITTERA {raised.alarm_id}")
    assert "behörighet" in answer and "Telegram" in answer
    clock.advance(timedelta(minutes=5))
    assert await repeat_alarms(ctx) == 1


async def test_an_alarm_that_reached_nobody_says_so(ctx: Context) -> None:
    """A walker alone on a shift of an organisation without leads, and no coordinator: the
    reply must not claim the alarm went to "0 personer: din grupp, gruppledarna och
    samordnaren"; it says nobody was reached and to call 112 (GSM-7, by SMS)."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(minutes=30))
    ctx = sms_ctx(ctx)
    walker = await sms_walker(ctx, org)
    await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    async with client_for(ctx) as client:
        (reply,) = await Phone(client).text("LARM")
    assert reply.startswith("Är någon i fara: ring 112 nu."), reply
    assert "0 personer" not in reply and "ingen" in reply.lower() and "112" in reply, reply
    assert is_gsm7(reply)


async def test_larm_from_an_unregistered_number_still_says_112_first(ctx: Context) -> None:
    """A number vandra does not know (a walker on a borrowed phone) texts LARM: no alarm can
    be raised, but the first words are still to call 112, then how to get registered."""
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        replies = await Phone(client, "+46709876543").text("LARM kniv")
    assert replies and replies[0].startswith("Är någon i fara: ring 112 nu."), replies
    assert "registrerat" in replies[-1], replies
    assert all(is_gsm7(r) for r in replies)
