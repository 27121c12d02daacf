"""The SMS channel: signed Twilio webhooks in, TwiML out; every keyword, both languages,
forged signatures, replays, unknown numbers, opt-out, long and odd bodies, status callbacks."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from bot.channels.gsm7 import is_gsm7, segments
from bot.channels.sms_webhook import sms_routes
from bot.dialogue.engine import Dialogue
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    signed_inbound_form,
)
from models.tables import OutboxMessage, Person, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.walks import signups
from tests.helpers import OPERATOR, add_shift, seed_org_area, with_settings

PUBLIC = "https://vandra.example.se/base"
ANNA = "+46701234567"


def sms_ctx(ctx: Context, open_registration: bool = False) -> Context:
    return with_settings(
        ctx,
        http={"public_url": PUBLIC},
        sms={
            "account_sid": TEST_ACCOUNT_SID,
            "auth_token": TEST_AUTH_TOKEN,
            "from_number": TEST_FROM_NUMBER,
            "open_registration": open_registration,
        },
    )


class Phone:
    """A phone texting vandra through (a stand-in for) Twilio's signed webhook."""

    def __init__(self, client: httpx.AsyncClient, number: str = ANNA) -> None:
        self.client = client
        self.number = number

    async def text(self, body: str, sid: str | None = None) -> list[str]:
        headers, form = signed_inbound_form(
            TEST_AUTH_TOKEN, f"{PUBLIC}/sms/inbound", self.number, body, sid
        )
        response = await self.client.post("/sms/inbound", data=form, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        return _messages(response.text)


def _messages(twiml: str) -> list[str]:
    import html

    return [html.unescape(m) for m in re.findall(r"<Message>(.*?)</Message>", twiml, re.S)]


def client_for(ctx: Context) -> httpx.AsyncClient:
    app = Starlette(routes=sms_routes(ctx, Dialogue(ctx)))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def sms_walker(ctx: Context, org: int, language: str = "sv") -> Person:
    person = await directory.add_person(
        ctx, OPERATOR, name="Anna", phone=ANNA, organisation=org, language=language
    )
    return await directory.record_consent(ctx, person.id or 0)


async def test_walker_does_everything_by_sms(ctx: Context, clock: ManualClock) -> None:
    """List, sign up, my shifts, check in and out, report and cancel, all by keyword."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=5))
    later = await add_shift(ctx, org, area, start_in=timedelta(days=3))
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        phone = Phone(client)
        listing = (await phone.text("pass"))[0]
        assert re.search(
            rf"^{shift.id} \w+ \d+/\d+ \d\d-\d\d Baronen Kalmar 0/8$", listing, re.M
        ), listing
        assert "anmäld" in (await phone.text(f"JA {shift.id}"))[0]
        assert "anmäld" in (await phone.text(f"  ja   {later.id} "))[0]
        assert "Du är avbokad" in (await phone.text(f"nej {later.id}"))[0]
        assert f"{shift.id} " in (await phone.text("MINA"))[0]
        clock.advance(timedelta(hours=4, minutes=30))
        assert "Incheckad" in (await phone.text(f"IN {shift.id}"))[0]
        clock.advance(timedelta(hours=5))
        assert "Utcheckad" in (await phone.text(f"ut {shift.id}"))[0]
        intro = (await phone.text(f"RAPPORT {shift.id}"))[0]
        assert "1=Inget särskilt hände" in intro
        assert "Tack" in (await phone.text("1"))[0]


async def test_english_keywords_and_texts(ctx: Context) -> None:
    """YES/NO/SHIFTS/MY work, and an English speaker gets English texts."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org, language="en")
    async with client_for(ctx) as client:
        phone = Phone(client)
        assert "YES 12" in (await phone.text("shifts"))[0]
        assert "signed up" in (await phone.text(f"YES {shift.id}"))[0]
        assert (
            "signed up" in (await phone.text("my"))[0]
            or str(shift.id) in (await phone.text("MY"))[0]
        )
        assert "no longer signed up" in (await phone.text(f"NO {shift.id}"))[0]


async def test_full_shift_puts_on_waitlist(ctx: Context) -> None:
    """JA on a full shift answers with the reservlista place."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=1, min_walkers=1)
    other = await directory.add_person(ctx, OPERATOR, name="Bo", organisation=org)
    await directory.record_consent(ctx, other.id or 0)
    await signups.sign_up(ctx, other.id or 0, shift.id or 0)
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        assert "reservlista" in (await Phone(client).text(f"JA {shift.id}"))[0]


@pytest.mark.parametrize("body", ["HJÄLP", "hjalp", " Hjälp ", "HJALP"])
async def test_help_in_swedish_explains_stopp_and_start(ctx: Context, body: str) -> None:
    """HJÄLP (any case, with or without accents) lists the keywords, STOPP and START too."""
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        text = (await Phone(client).text(body))[0]
    assert "STOPP" in text and "START" in text and "JA 12" in text


async def test_bad_and_missing_signatures_are_refused(ctx: Context) -> None:
    """A forged, tampered, wrong-URL or missing signature is 403 and changes nothing."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    ctx = sms_ctx(ctx)
    person = await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        headers, form = signed_inbound_form(
            TEST_AUTH_TOKEN, f"{PUBLIC}/sms/inbound", ANNA, f"JA {shift.id}"
        )
        tampered = {**form, "Body": f"NEJ {shift.id}"}
        wrong_url = signed_inbound_form(
            TEST_AUTH_TOKEN, "https://evil.example/sms/inbound", ANNA, f"JA {shift.id}"
        )
        forged = signed_inbound_form(
            "not-the-token", f"{PUBLIC}/sms/inbound", ANNA, f"JA {shift.id}"
        )
        attempts = [(headers, tampered), wrong_url, forged, ({}, form)]
        for attempt_headers, attempt_form in attempts:
            response = await client.post("/sms/inbound", data=attempt_form, headers=attempt_headers)
            assert response.status_code == 403
        status = await client.post(
            "/sms/status", data={"MessageSid": "SMx", "MessageStatus": "failed"}
        )
        assert status.status_code == 403
    assert await signups.my_shifts(ctx, person.id or 0) == []


async def test_replayed_message_sid_has_one_effect(ctx: Context) -> None:
    """Twilio retries: the same MessageSid twice signs up once and answers empty the second time."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        phone = Phone(client)
        assert "anmäld" in (await phone.text(f"JA {shift.id}", sid="SM" + "a" * 32))[0]
        assert await phone.text(f"JA {shift.id}", sid="SM" + "a" * 32) == []


async def test_unknown_number(ctx: Context) -> None:
    """An unknown number learns how to join; with open registration NAMN registers it."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    async with client_for(sms_ctx(ctx)) as client:
        assert "samordnare" in (await Phone(client, "+46709876543").text("PASS"))[0]
    open_ctx = sms_ctx(ctx, open_registration=True)
    async with client_for(open_ctx) as client:
        phone = Phone(client, "+46709876543")
        assert "NAMN" in (await phone.text(f"JA {shift.id}"))[0]
        assert "förening" in (await phone.text("NAMN Kim Berg"))[0]
        assert "18" in (await phone.text("1"))[0]
        assert "Godkänner" in (await phone.text("1"))[0]
        done = await phone.text("1")
        assert "registrerad" in done[0]
        assert any("anmäld" in m for m in done)  # the JA that started it is carried out
    async with ctx.store.sessions() as session:
        person = (await session.exec(select(Person).where(Person.phone == "+46709876543"))).one()
    assert person.name == "Kim Berg" and person.preferred_channel == "sms"


async def test_opt_out_and_in(ctx: Context) -> None:
    """STOPP confirms in Swedish; Twilio's STOP and START get an empty reply; all recorded."""
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    person = await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        phone = Phone(client)
        assert "inga fler SMS" in (await phone.text("stopp"))[0]
        assert await _opted_out(ctx, person.id or 0)
        assert await phone.text("START") == []
        assert not await _opted_out(ctx, person.id or 0)
        assert await phone.text("STOP") == []
        assert await _opted_out(ctx, person.id or 0)
        for word in ("CANCEL", "YES", "unstop"):
            assert await phone.text(word) == []
        assert not await _opted_out(ctx, person.id or 0)  # YES / UNSTOP opted back in


async def _opted_out(ctx: Context, person_id: int) -> bool:
    async with ctx.store.sessions() as session:
        person = await session.get(Person, person_id)
    assert person is not None
    return person.sms_opted_out


@pytest.mark.parametrize(
    "body",
    [
        "x" * 1600,
        "ä" * 1700,
        "🙂" * 300,
        "\u202e\u0000 JA 1",
        "JA 99999999999999",
        "NAMN",
        "",
        "  ",
        "JA -1",
        "<Response/>",
        "&amp; ' \" < >",
    ],
)
async def test_odd_bodies_get_a_gsm7_reply(ctx: Context, body: str) -> None:
    """Long, odd-Unicode or malformed texts get a short GSM-7 reply, never an error."""
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        replies = await Phone(client).text(body)
    assert replies and all(is_gsm7(text) for text in replies)


async def test_replies_fit_one_segment_where_they_can(ctx: Context) -> None:
    """Confirmations and hints are single GSM-7 segments."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        phone = Phone(client)
        for body in (f"NEJ {shift.id}", "hej", "STOPP"):
            for text in await phone.text(body):
                assert is_gsm7(text) and segments(text) == 1, (body, text, segments(text))


async def test_shift_list_pages(ctx: Context) -> None:
    """More than a page of shifts: PASS 2 shows the next, and the first page says so."""
    org, area = await seed_org_area(ctx)
    for day in range(6):
        await add_shift(ctx, org, area, start_in=timedelta(days=2 + day))
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        phone = Phone(client)
        first = (await phone.text("PASS"))[0]
        second = (await phone.text("pass 2"))[0]
    assert "PASS 2" in first and len(re.findall(r"^\d+ ", first, re.M)) == 4
    assert len(re.findall(r"^\d+ ", second, re.M)) == 2


@pytest.mark.parametrize(("first", "later"), [("MINA", "mina 3"), ("MY", "MY 3")])
async def test_my_shifts_come_a_page_at_a_time(ctx: Context, first: str, later: str) -> None:
    """A keen walker with ten sign-ups: MINA answers four shifts, the way to the next page and
    the calendar link; no page grows past a few segments (34 sign-ups once made 1,647
    characters, over Twilio's 1,600, which it refuses)."""
    org, area = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    person = await sms_walker(ctx, org, language="sv" if first == "MINA" else "en")
    for day in range(10):
        shift = await add_shift(ctx, org, area, start_in=timedelta(days=2 + day))
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    async with client_for(ctx) as client:
        phone = Phone(client)
        (page_one,) = await phone.text(first)
        (page_three,) = await phone.text(later)
    more = "MINA 2" if first == "MINA" else "MY 2"
    assert more in page_one and len(re.findall(r"^\d+ ", page_one, re.M)) == 4, page_one
    assert len(re.findall(r"^\d+ ", page_three, re.M)) == 2, page_three
    assert "MINA 4" not in page_three and "MY 4" not in page_three
    for text in (page_one, page_three):
        assert f"{PUBLIC}/" in text and is_gsm7(text) and segments(text) <= 3, text


def test_a_reply_over_twilios_limit_is_cut_not_refused() -> None:
    """Every TwiML reply is at most 1,600 characters, cut with "..." rather than refused."""
    from bot.channels.sms import render
    from scheduling.messages.content import Option, Outgoing

    options = tuple(Option(label=f"val {n}", action=f"a:{n}") for n in range(50))
    text = render(Outgoing(text="pass " * 400, options=options))
    assert len(text) == 1600 and text.endswith("..."), len(text)


async def test_one_person_on_both_channels(ctx: Context) -> None:
    """A walker using Telegram and SMS is one person with one set of sign-ups."""
    from tests.fakes.chat import Chat

    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    ctx = sms_ctx(ctx)
    person = await directory.add_person(
        ctx, OPERATOR, name="Anna", phone=ANNA, telegram_id=1001, organisation=org
    )
    await directory.record_consent(ctx, person.id or 0)
    async with client_for(ctx) as client:
        assert "anmäld" in (await Phone(client).text(f"JA {shift.id}"))[0]
    chat = Chat(Dialogue(ctx))
    assert "redan anmäld" in await chat.act(f"signup:{shift.id}")


async def test_status_callbacks_move_forward_and_mark_permanent_failures(ctx: Context) -> None:
    """delivered after sent sticks; a late 'sent' is ignored; 30005 marks unreachable and
    tells the coordinator; unknown sids are 204 too."""
    from scheduling.messages.outbox import enqueue

    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    person = await sms_walker(ctx, org)
    await directory.add_person(ctx, OPERATOR, name="Maria", role=Role.COORDINATOR)
    async with ctx.store.transaction() as session:
        await enqueue(
            session, key="t:1", kind="x", person_id=person.id or 0, due_at=ctx.now(), now=ctx.now()
        )
        message = (await session.exec(select(OutboxMessage))).one()
        message.provider_message_id = "SM1"
        message.delivery_status = "queued"
        session.add(message)
    async with client_for(ctx) as client:

        async def status(sid: str, state: str, code: str = "") -> int:
            form = {
                "MessageSid": sid,
                "MessageStatus": state,
                "ErrorCode": code,
                "AccountSid": TEST_ACCOUNT_SID,
            }
            url = f"{PUBLIC}/sms/status"
            signature = RequestValidator(TEST_AUTH_TOKEN).compute_signature(url, form)
            response = await client.post(
                "/sms/status", data=form, headers={"X-Twilio-Signature": signature}
            )
            return response.status_code

        assert await status("SM1", "sent") == 204
        assert await status("SM1", "undelivered", "30005") == 204
        assert await status("SM1", "sent") == 204
        assert await status("SMunknown", "delivered") == 204
    async with ctx.store.sessions() as session:
        stored = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.provider_message_id == "SM1")
            )
        ).one()
        notices = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "sms_unreachable"))
        ).all()
        anna = await session.get(Person, person.id)
    assert stored.delivery_status == "undelivered"
    assert anna is not None and anna.sms_unreachable
    assert len(notices) == 1




async def test_my_data_by_sms_is_a_short_summary(ctx: Context) -> None:
    """MINA DATA answers with a short summary and says how to get the rest."""
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        replies = await Phone(client).text("mina data")
    assert replies and "Anna" in replies[0] and all(is_gsm7(r) for r in replies)


def test_kvittera_acknowledges_an_alert() -> None:
    """KVITTERA 7 / ACK 7 become the acknowledge action for safety alert 7."""
    from bot.channels.sms import parse

    for body in ("KVITTERA 7", "kvittera  7", "ACK 7"):
        parsed = parse(body, ANNA)
        assert parsed.inbound is not None and parsed.inbound.action == "ack:alert:7"


@pytest.mark.parametrize("body", ["JA\u200b 12", "\ufeffJA 12", "JA 1\u200d2", "J\u2060A 12"])
def test_invisible_characters_do_not_hide_a_keyword(body: str) -> None:
    """A zero-width space, joiner, word joiner or byte-order mark (pasted or put in by a
    keyboard) does not turn ``JA 12`` into text vandra does not understand."""
    from bot.channels.sms import parse

    parsed = parse(body, ANNA)
    assert parsed.inbound is not None and parsed.inbound.action == "signup:12", parsed


@pytest.mark.parametrize(
    ("body", "action", "command", "args"),
    [
        ("UT 12!", "out:12", None, ""),
        ("JA 12.", "signup:12", None, ""),
        ("Nej, 12", "cancel:12", None, ""),
        ("IN 12 :)", "in:12", None, ""),
        ("Hjälp!", None, "help", ""),
        ("Mina data?", None, "mydata", ""),
        ("PASS 2.", None, "shifts", "2"),
        ("Larm!", None, "alarm", ""),
        ("🚨 LARM", None, "alarm", ""),
        ("Larm: kniv vid stationen", None, "alarm", "kniv vid stationen"),
        ("LARM, hjälp!", None, "alarm", "hjälp!"),
        ("Larm - bråk", None, "alarm", "bråk"),
        ("ALARM!!", None, "alarm", ""),
        ("Falskt larm!", None, "false_alarm", ""),
    ],
)
def test_punctuation_and_emoji_around_a_keyword_do_not_hide_it(
    body: str, action: str | None, command: str | None, args: str
) -> None:
    """A walker typing fast at night writes ``Larm!`` or ``UT 12.``: the punctuation, symbols
    and emoji around each word are not part of the keyword. The alarm's own text is kept as
    written after the keyword and its separator."""
    from bot.channels.sms import parse

    parsed = parse(body, ANNA)
    assert parsed.inbound is not None, parsed
    assert (parsed.inbound.action, parsed.inbound.command) == (action, command), parsed
    assert parsed.inbound.args == args, parsed


@pytest.mark.parametrize("body", ["ALARMERA", "Larmet gick", "jag vill ha hjälp", "!!!", "12!"])
def test_words_only_containing_a_keyword_are_not_that_keyword(body: str) -> None:
    """Stripping punctuation never joins or cuts words: ``ALARMERA`` is not ``ALARM``."""
    from bot.channels.sms import parse

    parsed = parse(body, ANNA)
    assert parsed.inbound is not None and parsed.inbound.command is None, parsed
    assert parsed.inbound.action is None and parsed.inbound.text == body.strip(), parsed


@pytest.mark.parametrize("body", ["Stopp.", "STOPP!", " stopp ! "])
async def test_stopp_with_punctuation_opts_out(ctx: Context, body: str) -> None:
    """vandra's own STOPP is not missed over a full stop (Twilio's STOP stays exact)."""
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    person = await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        assert "inga fler SMS" in (await Phone(client).text(body))[0]
    assert await _opted_out(ctx, person.id or 0)


@pytest.mark.parametrize("body", ["HELP", "info", "Help!"])
async def test_twilio_help_words_get_vandras_help(ctx: Context, body: str) -> None:
    """The English texts say "Reply HELP": HELP and INFO answer with vandra's keyword list
    (Twilio itself answers them only on US and Canadian numbers)."""
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        replies = await Phone(client).text(body)
    assert replies and "STOPP" in replies[0] and "START" in replies[0], replies
    assert all(is_gsm7(text) and not re.search(r"(^|\s)/\w", text) for text in replies), replies


async def test_signing_up_after_stopp_says_the_reminder_cannot_come(ctx: Context) -> None:
    """A walker who sent STOPP (no Telegram) may still sign up by SMS, but is told that the
    promised reminder and any change cannot reach them, and how to turn texts on again."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(days=2))
    ctx = sms_ctx(ctx)
    await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        phone = Phone(client)
        (signed_up,) = await phone.text(f"JA {shift.id}")
        assert "anmäld" in signed_up
        await phone.text(f"NEJ {shift.id}")
        await phone.text("STOPP")
        replies = await phone.text(f"JA {shift.id}")
        assert len(replies) == 2 and "anmäld" in replies[0], replies
        assert "START" in replies[1] and "påminnelser" in replies[1], replies
        await phone.text("START")
        await phone.text(f"NEJ {shift.id}")
        (again,) = await phone.text(f"JA {shift.id}")
        assert "anmäld" in again
