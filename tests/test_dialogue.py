"""The dialogue, driven directly: registration, shifts, sign-up, waitlist, reports, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.dialogue.engine import Dialogue
from models import first_write
from models.tables import Conversation, Person, Report, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.walks import signups
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, add_people, add_shift, recorded, seed_org_area


async def register(chat: Chat, org: str = "IFK Kalmar") -> str:
    await chat.command("start")
    await chat.say("Anna Lindqvist")
    await chat.tap(org)
    await chat.tap("Ja, jag är minst")
    return await chat.tap("Jag godkänner")


async def test_registration_on_first_contact(ctx: Context) -> None:
    """Name, organisation, age and consent; the last message says "registrerad"."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    text = await chat.command("start")
    assert "Vad heter du" in text and "Använd Anna" in chat.labels
    await chat.say("Anna Lindqvist")
    assert "IFK Kalmar" in chat.labels and "Privat / ingen förening" in chat.labels
    await chat.tap("IFK Kalmar")
    assert "minst 18" in chat.text
    await chat.tap("Ja")
    async with ctx.store.sessions() as session:
        assert (await session.exec(select(Person))).all() == []  # nothing stored before consent
    done = await chat.tap("Jag godkänner")
    assert "registrerad" in done
    assert any(reply.request_contact for reply in chat.replies)
    async with ctx.store.sessions() as session:
        person = (await session.exec(select(Person))).one()
    assert (person.name, person.telegram_id, person.may_walk) == ("Anna Lindqvist", 1001, True)


async def test_refusing_consent_stores_nothing(ctx: Context) -> None:
    """Saying no to consent (or to the minimum age) leaves no trace of the person."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await chat.command("start")
    await chat.say("Bo")
    await chat.tap("Privat")
    await chat.tap("Ja, jag är minst")
    assert "inget om dig har sparats" in (await chat.tap("Nej tack")).lower()
    young = Chat(Dialogue(ctx), address="2002", telegram_id=2002)
    await young.command("start")
    await young.say("Kim")
    await young.tap("Privat")
    assert "minst 18" in await young.tap("Nej")
    async with ctx.store.sessions() as session:
        assert (await session.exec(select(Person))).all() == []


async def test_deep_link_signs_up_after_registration(ctx: Context) -> None:
    """/start pass_<id> opens that shift once registration is done; one tap signs up."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    chat = Chat(Dialogue(ctx))
    await chat.command("start", f"pass_{shift.id}")
    await chat.say("Anna Lindqvist")
    await chat.tap("IFK Kalmar")
    await chat.tap("Ja, jag är minst")
    text = await chat.tap("Jag godkänner")
    assert "registrerad" in text and f"Pass {shift.id}" in text
    assert "anmäld" in await chat.tap("Anmäl mig")


async def test_restart_mid_registration_resumes(ctx: Context) -> None:
    """A new Dialogue (a restarted process) continues where the person was."""
    await seed_org_area(ctx)
    first = Chat(Dialogue(ctx))
    await first.command("start")
    await first.say("Anna Lindqvist")
    second = Chat(Dialogue(ctx))
    await second.say("1")  # the first option offered before the restart: IFK Kalmar
    assert "minst 18" in second.text


async def test_operator_added_person_is_only_asked_for_consent(ctx: Context) -> None:
    """Someone the CLI added is recognised by Telegram id and asked only for consent."""
    org, _area = await seed_org_area(ctx)
    await directory.add_person(ctx, OPERATOR, name="Erik", telegram_id=3003, organisation=org)
    chat = Chat(Dialogue(ctx), address="3003", telegram_id=3003, name="E")
    text = await chat.command("start")
    assert "Godkänner du" in text
    assert "registrerad" in await chat.tap("Jag godkänner")


async def test_waitlist_cancel_and_promotion_through_the_dialogue(ctx: Context) -> None:
    """A full shift puts the next person on the reservlista; a cancel offers them the seat."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=1, min_walkers=1)
    dialogue = Dialogue(ctx)
    anna, bo = Chat(dialogue), Chat(dialogue, address="1002", telegram_id=1002, name="Bo")
    await register(anna)
    await register(bo)
    assert "anmäld" in await anna.act(f"signup:{shift.id}")
    assert "reservlista" in await bo.act(f"signup:{shift.id}")
    assert "avbokad" in await anna.act(f"cancel:{shift.id}")
    card = await bo.act(f"shift:{shift.id}")
    assert "bekräfta" in card.lower()
    assert "anmäld" in await bo.tap("Bekräfta platsen")


async def test_forged_and_stale_buttons_get_a_polite_answer(ctx: Context) -> None:
    """Unknown, malformed or foreign actions never raise; they get a short answer."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    for action in (
        "signup:abc",
        "zzz:1",
        "signup:999999",
        "rep:mood:calm",
        "ns:area:1",
        "signup:" + "9" * 40,
        "",
        ":",
        "del",
        "lang:fi",
        "report:x",
    ):
        text = await chat.act(action)
        assert text and "Traceback" not in text


async def test_sms_numbers_pick_options(ctx: Context) -> None:
    """Replying with an option's number works like tapping it (how SMS and console choose)."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx), channel="console", address="console:x", telegram_id=None)
    await chat.command("start")
    await chat.say("Anna")
    await chat.say("1")
    await chat.say("1")
    assert "registrerad" in await chat.say("1")


async def test_report_nothing_happened_is_one_tap(ctx: Context, clock: ManualClock) -> None:
    """After the walk, "nothing in particular happened" files a complete, calm report."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=1), hours=4)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    await chat.act(f"signup:{shift.id}")
    clock.advance(timedelta(hours=1, minutes=5))
    await chat.act(f"in:{shift.id}")
    clock.advance(timedelta(hours=4))
    await chat.command("report")
    assert "tack" in (await chat.tap("Inget särskilt hände")).lower()
    async with ctx.store.sessions() as session:
        report = (await session.exec(select(Report))).one()
    assert (report.status, report.nothing_happened, report.mood, report.walkers_present) == (
        "submitted",
        True,
        "calm",
        1,
    )


async def test_full_report_by_numbers(ctx: Context, clock: ManualClock) -> None:
    """Every report question answered by number (as by SMS), with a place issue and summary."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=1), hours=4)
    chat = Chat(
        Dialogue(ctx), channel="sms", address="+46701234567", telegram_id=None, phone="+46701234567"
    )
    (person,) = await add_people(ctx, 1, org=org)
    async with ctx.store.transaction() as session:
        stored = await session.get(Person, person.id)
        assert stored is not None
        stored.phone = "+46701234567"
        session.add(stored)
    await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    clock.advance(timedelta(hours=5, minutes=30))
    await chat.command("report", str(shift.id))
    for answer in ("2", "3", "2", "2", "2", "2", "1 3", "1", "1 2", "2", "1", "4", "2", "1", "2"):
        await chat.say(answer)
    await chat.say("Lugn kväll, ring 070-123 45 67 om något")
    assert "tack" in chat.text.lower()
    async with ctx.store.sessions() as session:
        report = (await session.exec(select(Report))).one()
    assert report.walkers_present == 3 and report.youth_met == "1-10"
    assert report.mood == "mixed" and report.alcohol == "some" and report.drugs is False
    assert report.help_given == ["mediation", "helped_home"]
    assert report.services_contacted == ["112"]
    assert report.areas == ["Kalmar C / stationen", "Baronen / Ölandshamnen"]
    assert report.place_issues == [{"place": "Kalmar C / stationen", "category": "vandalism"}]
    assert report.felt_safe == "yes" and report.follow_up is False
    assert report.summary == "Lugn kväll, ring [telefon] om något"
    assert report.masked == ["phone"]
    assert "telefonnummer" in chat.text


async def test_volunteer_refused_coordinator_commands(ctx: Context) -> None:
    """Coordinator commands refuse a volunteer politely with "behörighet", and change nothing."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    for command in ("newshift", "staffing", "broadcast"):
        assert "behörighet" in await chat.command(command)


async def test_unregistered_coordinator_command_leads_into_registration(ctx: Context) -> None:
    """A person not yet registered who sends a coordinator command is led into registration."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    assert "registrera" in await chat.command("newshift")


@pytest.mark.parametrize("repeat_label", ["Bara en gång", "Varje fredag och lördag"])
async def test_coordinator_creates_shifts_and_broadcasts(ctx: Context, repeat_label: str) -> None:
    """A coordinator creates a shift or a Fri+Sat series in chat, then calls for walkers."""
    org, _area = await seed_org_area(ctx)
    await add_people(ctx, 3, org=org)
    await directory.add_person(ctx, OPERATOR, name="Maria", telegram_id=5005, role=Role.COORDINATOR)
    await directory.record_consent(ctx, (await _person_by_tg(ctx, 5005)).id or 0)
    chat = Chat(Dialogue(ctx), address="5005", telegram_id=5005, name="Maria")
    await chat.command("newshift")
    await chat.tap("IFK Kalmar")
    await chat.tap("Baronen")
    await chat.tap("fre")
    await chat.tap("21:00")
    await chat.tap("01:00")
    await chat.tap(repeat_label)
    if repeat_label != "Bara en gång":
        await chat.tap("4 veckor")
    assert "pass skapade" in await chat.tap("Skapa")
    await chat.tap("Kalla in vandrare")
    assert "3 vandrare" in await chat.tap("Föreningens vandrare")


async def _person_by_tg(ctx: Context, telegram_id: int) -> Person:
    async with ctx.store.sessions() as session:
        return (await session.exec(select(Person).where(Person.telegram_id == telegram_id))).one()


async def test_delete_me(ctx: Context) -> None:
    """/radera asks first, then erases; the person is then unknown."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    await chat.command("delete")
    assert "raderade" in await chat.tap("Ja, radera mig")
    assert "Vad heter du" in await chat.command("start")


async def test_language_switch(ctx: Context) -> None:
    """/language en switches the person's texts to English."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    await chat.command("language")
    assert "English" in await chat.tap("English")
    assert "Coming shifts" in await chat.command("shifts") or "no coming" in chat.text


async def test_my_data_as_a_file_in_chat(ctx: Context) -> None:
    """/mina_data sends a JSON document with the person's own data."""
    import json

    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    await chat.command("mydata")
    document = chat.replies[0].document
    assert document is not None and document.filename.endswith(".json")
    data = json.loads(document.content)
    assert "Anna Lindqvist" in json.dumps(data, ensure_ascii=False)


async def test_coordinator_reads_stats_exports_and_gets_a_dashboard_link(ctx: Context) -> None:
    """/statistik shows figures, /export sends an XLSX, /dashboard a one-time link."""
    await seed_org_area(ctx)
    coordinator = await directory.add_person(
        ctx, OPERATOR, name="Maria", telegram_id=5005, role=Role.COORDINATOR
    )
    await directory.record_consent(ctx, coordinator.id or 0)
    chat = Chat(Dialogue(ctx), address="5005", telegram_id=5005, name="Maria")
    assert "Statistik" in await chat.command("stats") and "genomförda" in chat.text
    await chat.command("export")
    await chat.tap("Rapporter")
    document = chat.replies[0].document
    assert document is not None and document.filename.endswith(".xlsx")
    assert document.content[:2] == b"PK"  # a zip container, as XLSX files are
    assert "/dashboard/login/" in await chat.command("dashboard")


async def test_volunteer_refused_evaluation_commands(ctx: Context) -> None:
    """Statistics, exports and the dashboard are refused to a volunteer with "behörighet"."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    for command in ("stats", "dashboard", "export"):
        assert "behörighet" in await chat.command(command)
    assert "behörighet" in await chat.act("ex:reports:0")


async def test_safety_alert_acknowledged_from_chat(ctx: Context, clock: ManualClock) -> None:
    """A lead's ack:alert:<id> button stops the alert; a volunteer's is refused."""
    from models.tables import SafetyAlert
    from scheduling.walks import safety

    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=1), hours=2)
    lead = await directory.add_person(
        ctx, OPERATOR, name="Lena", telegram_id=4004, organisation=org, role=Role.LEAD
    )
    await directory.record_consent(ctx, lead.id or 0)
    async with ctx.store.transaction() as session:
        alert = SafetyAlert(shift_id=shift.id or 0, overdue_at=ctx.now(), raised_at=ctx.now())
        session.add(alert)
        await session.flush()
        alert_id = alert.id
    volunteer = Chat(Dialogue(ctx))
    await register(volunteer)
    assert "behörighet" in await volunteer.act(f"ack:alert:{alert_id}")
    chat = Chat(Dialogue(ctx), address="4004", telegram_id=4004, name="Lena")
    assert "kvitterat" in await chat.act(f"ack:alert:{alert_id}")
    assert [a.status for a in await safety.open_alerts(ctx)] == []


async def test_linking_a_phone_keeps_the_stronger_sign_up(ctx: Context) -> None:
    """When the Telegram record and the operator's phone record both signed up for a shift,
    the merged person keeps the seat (not a cancelled or waitlisted copy)."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    phone_person = await directory.add_person(
        ctx, OPERATOR, name="Anna L", phone="0701234567", organisation=org
    )
    await directory.record_consent(ctx, phone_person.id or 0)
    await signups.sign_up(ctx, phone_person.id or 0, shift.id or 0)
    await signups.cancel_signup(ctx, phone_person.id or 0, shift.id or 0)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    assert "anmäld" in await chat.act(f"signup:{shift.id}")
    await chat.share_contact("+46701234567")
    mine = await signups.my_shifts(ctx, phone_person.id or 0)
    assert [(view.shift.id, signup.status) for view, signup in mine] == [(shift.id, "confirmed")]


# --- how a turn is stored ------------------------------------------------------------------


async def _conversation(ctx: Context, address: str = "1001") -> Conversation:
    async with ctx.store.sessions() as session:
        return (
            await session.exec(select(Conversation).where(Conversation.address == address))
        ).one()


async def test_a_turn_is_one_transaction_that_reads_once_and_writes_once(
    ctx: Context, clock: ManualClock
) -> None:
    """A turn reads the conversation with the person in one statement and writes the
    conversation back without reading it again, all in one transaction; the person's activity
    is written when the last note of it is an hour old or more."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    with recorded(ctx) as statements:
        await chat.command("help")
        within_the_hour = [s for s in statements if s not in ("COMMIT", "BEGIN")]
        statements.clear()
        clock.advance(timedelta(minutes=61))
        await chat.command("help")
        an_hour_later = [s for s in statements if s not in ("COMMIT", "BEGIN")]
    # On psycopg the conversation's write is one upsert when it is the turn's only write
    # (models/first_write.py: it then needs no transaction); with the activity it is not.
    saved = "INSERT" if first_write.available(ctx.store.engine) else "UPDATE"
    assert within_the_hour == [
        "TRANSACTION",
        "SELECT",  # the conversation and the person
        saved,  # the conversation
    ]
    assert an_hour_later == ["TRANSACTION", "SELECT", "UPDATE", "UPDATE"]


async def test_flow_state_and_activity_survive_between_turns(
    ctx: Context, clock: ManualClock
) -> None:
    """Each turn stores where the person is and when they were last active."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await chat.command("start")
    stored = await _conversation(ctx)
    assert stored.flow is not None and "offered" in stored.data
    await chat.say("Anna Lindqvist")
    assert "minst 18" not in chat.text and "IFK Kalmar" in chat.labels
    await chat.tap("IFK Kalmar")
    await chat.tap("Ja, jag är minst")
    await chat.tap("Jag godkänner")
    clock.advance(timedelta(days=3))
    await chat.command("help")
    person = await _person_by_tg(ctx, 1001)
    assert person.last_active_at == clock.now()
    assert (await _conversation(ctx)).person_id == person.id


async def test_erasure_leaves_only_the_language_in_the_conversation(ctx: Context) -> None:
    """After /radera the conversation row is written anew, linked to nobody."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    await chat.command("language")
    await chat.tap("English")
    await chat.command("delete")
    await chat.tap("delete me")
    stored = await _conversation(ctx)
    assert stored.person_id is None and stored.flow is None
    assert stored.data.get("lang") == "en"
    assert set(stored.data) <= {"lang", "offered"}
    assert "What is your name" in await chat.command("start")


async def test_linking_a_phone_moves_everything_that_names_the_person(ctx: Context) -> None:
    """A coordinator who broadcast, signed in to the dashboard and acknowledged an alert, then
    shares the number an operator filed for them, becomes that record with all of it: nothing
    is left pointing at the removed record (found by tests/test_hostile.py)."""
    from models.tables import Broadcast, DashboardLogin, SafetyAlert
    from scheduling.walks.phone_linking import link_phone

    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    filed = await directory.add_person(ctx, OPERATOR, name="Maria K", phone="0701230001")
    coordinator = await directory.add_person(
        ctx, OPERATOR, name="Maria", telegram_id=5005, role=Role.COORDINATOR
    )
    old_id = coordinator.id or 0
    async with ctx.store.transaction() as session:
        session.add(Broadcast(author_id=old_id, audience="organisation", created_at=ctx.now()))
        session.add(
            DashboardLogin(jti="j1", person_id=old_id, issued_at=ctx.now(), expires_at=ctx.now())
        )
        session.add(
            SafetyAlert(
                shift_id=shift.id or 0,
                overdue_at=ctx.now(),
                raised_at=ctx.now(),
                acknowledged_by=old_id,
            )
        )
    merged = await link_phone(ctx, old_id, "+46701230001")
    assert merged.id == filed.id and merged.telegram_id == 5005
    async with ctx.store.sessions() as session:
        for table, column in (
            (Broadcast, Broadcast.author_id),
            (DashboardLogin, DashboardLogin.person_id),
            (SafetyAlert, SafetyAlert.acknowledged_by),
        ):
            rows = (await session.exec(select(table).where(column == filed.id))).all()
            assert len(rows) == 1, table
