"""Hostile input, property-based: whatever arrives, vandra answers and its rules hold.

- The SMS keyword parser takes any text (all of Unicode, control characters, up to 2,000
  characters) without raising; everything rendered for SMS is GSM-7.
- The dialogue, fed random sequences of commands, well-formed and forged button payloads,
  numbers and free text by volunteers, leads, a coordinator and strangers on every channel,
  with the clock moving: every input gets a reply, nothing raises or logs "dialogue failed",
  and after every step no shift holds more seats than its maximum, nobody holds two live
  sign-ups for one shift, and a cancelled shift gains no live sign-up.
- Forged Telegram callback data gets a short answer through the real client; garbage webhook
  bodies (random JSON, wrong types, huge bodies) get 400/403/413 or 200, never a 500.

The dialogue's properties run on a SQLite file seeded once per module and copied for each
example (hypothesis explores many short conversations; a fresh migration each would be slow).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import string
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select
from starlette.applications import Starlette
from twilio.request_validator import RequestValidator

from bot.channels import sms
from bot.channels.console import to_inbound
from bot.channels.gsm7 import is_gsm7
from bot.channels.sms_webhook import sms_routes
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_inbound import text_inbound
from bot.channels.telegram_webhook import SECRET_HEADER, webhook_routes
from bot.dialogue.commands import COMMANDS
from bot.dialogue.engine import Dialogue
from bot.dialogue.turn import Inbound
from fakes.telegram_server import FakeTelegramServer
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    signed_inbound_form,
)
from models.db import Store, upgrade
from models.tables import Role, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Option, Outgoing
from scheduling.people import directory
from scheduling.walks import shifts, signups
from tests.conftest import T0, make_settings
from tests.helpers import OPERATOR, add_shift, with_settings

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=2000)
# Anything Unicode calls a digit: Arabic-Indic, Ethiopic, Kharoshthi, superscripts, fractions...
# Some are str.isdigit() but not int()-able (Ethiopic ፩, Kharoshthi 𐩀, New Tai Lue ᧚).
NUMBERISH = st.one_of(
    st.text(st.sampled_from("0123456789፩𐩀᧚²①٣"), min_size=1, max_size=12),
    st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=12),
)
KEYWORDS = ["JA", "ja", "YES", "NEJ", "no", "IN", "UT", "OUT", "PASS", "shifts", "RAPPORT",
            "MINA", "HJÄLP", "NAMN", "STOPP", "START", "MINA DATA", "radera", "AVBRYT"]
SMS_BODY = st.one_of(
    ANY_TEXT,
    st.builds("{}{}{}".format, st.sampled_from(KEYWORDS),
              st.sampled_from([" ", "  ", "\t", "\u00a0", "\n", ""]),
              st.one_of(NUMBERISH, st.from_regex(r"[0-9]{1,30}", fullmatch=True), ANY_TEXT)),
)
PHONE = "+46701230001"
PUBLIC = "https://vandra.example.se"


class ErrorLog(logging.Handler):
    """Collects ERROR records of vandra's loggers (and python-telegram-bot's)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def lines(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in self.records]


@pytest.fixture
def errors() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    loggers = [logging.getLogger(name) for name in ("vandra", "telegram")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


# --- (a) the SMS keyword parser -----------------------------------------------------------


@settings(max_examples=1000, deadline=None)
@given(body=SMS_BODY)
def test_sms_parser_reads_any_text(body: str) -> None:
    """Any body parses, and what it asks for is one of the known shapes."""
    parsed = sms.parse(body, PHONE)
    assert isinstance(parsed, sms.Parsed)
    assert (parsed.inbound is None) != (parsed.special is None)
    inbound = parsed.inbound
    if inbound is not None:
        assert (inbound.channel, inbound.address, inbound.phone) == ("sms", PHONE, PHONE)
        if inbound.action is not None:
            kind, _, number = inbound.action.partition(":")
            assert kind in ("signup", "cancel", "in", "out"), inbound.action
            assert number.isascii() and number.isdigit() and len(number) <= 9, inbound.action
        if inbound.command is not None:
            assert inbound.command in {*COMMANDS.values(), "register"}, inbound.command


@settings(max_examples=200, deadline=None)
@given(text=ANY_TEXT, labels=st.lists(ANY_TEXT.map(lambda s: s[:100]), max_size=4))
def test_everything_rendered_for_sms_is_gsm7(text: str, labels: list[str]) -> None:
    """A reply with any text and any option labels renders as GSM-7."""
    reply = Outgoing(text=text, options=tuple(Option(label, "menu") for label in labels))
    assert is_gsm7(sms.render(reply))


# --- (b) the dialogue under random conversations -------------------------------------------


@dataclass(frozen=True)
class Persona:
    channel: str
    telegram_id: int | None = None
    phone: str | None = None
    name: str = ""


PERSONAS = {
    "walker1": Persona("telegram", telegram_id=4001, name="Vera"),
    "walker2": Persona("telegram", telegram_id=4002, name="Walt"),
    "walker3": Persona("telegram", telegram_id=4003, name="Wilma"),
    "sms_walker": Persona("sms", phone=PHONE),
    "console_walker": Persona("console", name="Conny Konsol"),
    "lead": Persona("telegram", telegram_id=4010, name="Lena"),
    "lead_b": Persona("telegram", telegram_id=4012, name="Bosse"),
    "coordinator": Persona("telegram", telegram_id=4011, name="Maja"),
    "stranger": Persona("telegram", telegram_id=4099, name="Sam"),
    "sms_stranger": Persona("sms", phone="+46701239999"),
    "console_stranger": Persona("console", name="Okänd Gäst"),
}
SHIFT_IDS = (1, 2, 3, 4, 5, 6)  # what the seed creates, in order (checked there)


async def _seed(url: str) -> None:
    """Two organisations; walkers on every channel, a lead of each, a coordinator; a full
    one-seat shift, one starting soon, one overlapping, one cancelled, one walked soon."""
    store = Store.open(url)
    await upgrade(store.engine)
    ctx = Context(store=store, settings=make_settings(url), clock=ManualClock(T0))
    a = (await directory.add_organisation(ctx, OPERATOR, "IFK Kalmar")).id or 0
    b = (await directory.add_organisation(ctx, OPERATOR, "Nattugglorna")).id or 0
    area = (await directory.add_area(ctx, OPERATOR, "Baronen")).id or 0
    roles = {"lead": (Role.LEAD, a), "lead_b": (Role.LEAD, b),
             "coordinator": (Role.COORDINATOR, None)}
    people: dict[str, int] = {}
    for key, persona in PERSONAS.items():
        if "stranger" in key:
            continue
        role, org = roles.get(key, (Role.VOLUNTEER, a))
        person = await directory.add_person(
            ctx, OPERATOR, name=persona.name or f"SMS {key}", role=role, organisation=org,
            telegram_id=persona.telegram_id, phone=persona.phone, trained=key == "walker1")
        await directory.record_consent(ctx, person.id or 0)
        people[key] = person.id or 0
    created = [
        await add_shift(ctx, a, area, start_in=timedelta(days=3), min_walkers=1, max_walkers=1),
        await add_shift(ctx, a, area, start_in=timedelta(hours=2), hours=3, max_walkers=3),
        await add_shift(ctx, b, area, start_in=timedelta(days=3, hours=2), max_walkers=4),
        await add_shift(ctx, a, area, start_in=timedelta(days=5), max_walkers=3),
        await add_shift(ctx, a, area, start_in=timedelta(hours=1), hours=2, max_walkers=2),
        await add_shift(ctx, b, area, start_in=timedelta(days=10), min_walkers=1, max_walkers=1),
    ]
    assert tuple(s.id for s in created) == SHIFT_IDS
    await signups.sign_up(ctx, people["walker1"], 2)
    await signups.sign_up(ctx, people["walker3"], 5)
    await signups.sign_up(ctx, people["walker2"], 1)
    await signups.sign_up(ctx, people["sms_walker"], 4)
    await shifts.cancel_shift(ctx, OPERATOR, 4)
    await store.close()


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded SQLite file, built once for the module."""
    path = tmp_path_factory.mktemp("hostile") / "seed.db"
    asyncio.run(_seed(f"sqlite:///{path}"))
    return path


REAL_SHIFT = st.sampled_from([1, 1, 1, 2, 2, 3, 4, 5, 6])  # mostly the full one and the soon one
SHIFT_REF = st.one_of(REAL_SHIFT, REAL_SHIFT, REAL_SHIFT, st.sampled_from([0, 7, 999_999_999]),
                      st.integers(min_value=10**9, max_value=10**30))
ACTION_PREFIXES = ("signup", "cancel", "shift", "in", "out", "report", "sc", "page")
WELL_FORMED = st.one_of(
    st.builds("{}:{}".format, st.sampled_from(ACTION_PREFIXES), SHIFT_REF),
    st.builds("sc:{}:yes".format, SHIFT_REF),
    st.builds("bc:{}:{}".format, st.sampled_from(["shift", "org", "all", "x"]), SHIFT_REF),
    st.builds("ns:{}:{}".format,
              st.sampled_from(["org", "area", "date", "start", "end", "repeat", "until",
                               "confirm"]),
              st.one_of(SHIFT_REF.map(str), st.sampled_from(
                  ["2026-11-27", "2026-12-25", "1999-01-01", "21:00", "01:00", "25:99", "yes",
                   "no", "weekly", "frisat", "x"]))),
    st.builds("rep:{}:{}".format,
              st.sampled_from(["nothing", "begin", "later", "skip", "youth_met", "mood",
                               "alcohol", "drugs", "felt_safe", "follow_up", "walkers_present",
                               "help_given", "services_contacted", "areas", "issue",
                               "issue_place", "issue_category"]),
              st.sampled_from(["", "0", "1", "3", "50+", "calm", "none", "yes", "no", "done",
                               "add", "other", "light", "112", "999", "٣", "፩"])),
    st.builds("ex:{}:{}".format, st.sampled_from(["reports", "stats", "payments", "nope"]),
              st.sampled_from(["0", "1", "2", "x"])),
    st.builds("reg:{}:{}".format, st.sampled_from(["name", "org", "age", "consent"]),
              st.sampled_from(["", "0", "1", "2", "99", "yes", "no"])),
    st.sampled_from(["menu", "lang:en", "lang:sv", "lang:xx", "del:no", "del:yes", "reg:name",
                     "page:0", "page:-1", "signup:", "signup:1:2", ":", ""]),
)
FREE_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
NUMBERS = st.one_of(st.sampled_from(["1", "2", "3", "4", "9", "0", " 2 ", "1 3", "٣", "፩", "²"]),
                    st.from_regex(r"[0-9]{1,40}", fullmatch=True), NUMBERISH)
# Mostly what real people send: a sign-up, a cancel, a card, a check-in, a report, by button
# or keyword, so that seats fill, waitlists form and shifts get cancelled under the noise.
SEAT = st.builds("{}:{}".format, st.sampled_from(["signup", "signup", "signup", "cancel",
                                                  "cancel", "shift", "in", "out", "report",
                                                  "sc"]), REAL_SHIFT)
LIKELY = st.one_of(
    SEAT, SEAT, SEAT, SEAT,
    st.builds("sc:{}:yes".format, REAL_SHIFT),
    st.builds("bc:org:{}".format, REAL_SHIFT),
    st.sampled_from(["rep:nothing", "rep:begin", "rep:walkers_present:3", "del:yes"]),
)
SMS_LIKELY = st.builds("{} {}".format, st.sampled_from(["JA", "JA", "NEJ", "IN", "UT", "RAPPORT"]),
                       REAL_SHIFT)
INPUT = st.one_of(
    st.tuples(st.just("action"), LIKELY, st.just("")),
    st.tuples(st.just("action"), LIKELY, st.just("")),
    st.tuples(st.just("text"), SMS_LIKELY, st.just("")),
    st.tuples(st.just("command"), st.sampled_from(sorted(COMMANDS)),
              st.one_of(st.just(""), NUMBERS, FREE_TEXT.map(lambda s: s[:40]),
                        st.builds("pass_{}".format, SHIFT_REF))),
    st.tuples(st.just("action"), st.one_of(WELL_FORMED, FREE_TEXT.map(lambda s: s[:64])),
              st.just("")),
    st.tuples(st.just("text"), st.one_of(NUMBERS, FREE_TEXT, st.sampled_from(
        ["JA 1", "nej 2", "IN 2", "UT 2", "RAPPORT 5", "NAMN Kim", "Anna Andersson", "PASS 2",
         "MINA", "MINA DATA", "STOPP", "avbryt", "/start pass_1"])), st.just("")),
    st.tuples(st.just("contact"), st.sampled_from([PHONE, "0701234567", "+46709999999", "x"]),
              st.just("")),
    st.tuples(st.just("tick"), st.sampled_from(["0.25", "1", "3", "12", "30"]), st.just("")),
)
SPEAKER = st.sampled_from([*sorted(PERSONAS), "walker1", "walker2", "walker3", "sms_walker",
                           "console_walker", "lead", "coordinator"])  # walkers speak up most
STEPS = st.lists(st.tuples(SPEAKER, INPUT), min_size=3, max_size=20)


def inbound_for(persona: Persona, kind: str, value: str, args: str) -> Inbound | None:
    """What the persona's channel would hand the dialogue (None: not dialogue input)."""
    line = f"/{value} {args}".strip() if kind == "command" else value
    if persona.channel == "sms":
        body = line.lstrip("/") if kind == "command" else value
        parsed = sms.parse(body, persona.phone or "")
        return parsed.inbound
    if persona.channel == "console":
        address = f"console:{persona.name.casefold()}"
        if kind == "action":
            return Inbound(channel="console", address=address, display_name=persona.name,
                           action=value)
        if kind == "contact":
            return None
        return to_inbound(line, address, None, persona.name)
    assert persona.telegram_id is not None
    base = text_inbound("", persona.telegram_id, persona.name, "sv")
    if kind == "action":
        return replace(base, text=None, action=value)
    if kind == "contact":
        return replace(base, text=None, contact_phone=value)
    return text_inbound(line, persona.telegram_id, persona.name, "sv")


LIVE = (SignupStatus.CONFIRMED, SignupStatus.OFFERED, SignupStatus.WAITLISTED)


async def check_invariants(ctx: Context, frozen: dict[int, dict[int, str]]) -> None:
    """Seats within the maximum; one live sign-up per person and shift; a cancelled shift's
    live sign-ups are those it had when it was cancelled (``frozen``, updated here)."""
    async with ctx.store.sessions() as session:
        all_shifts = (await session.exec(select(Shift))).all()
        all_signups = (await session.exec(select(Signup).order_by(col(Signup.id)))).all()
    by_shift: dict[int, list[Signup]] = {}
    for signup in all_signups:
        by_shift.setdefault(signup.shift_id, []).append(signup)
    for shift in all_shifts:
        rows = by_shift.get(shift.id or 0, [])
        seats = [s for s in rows if s.status in SignupStatus.HOLDS_SEAT]
        assert len(seats) <= shift.max_walkers, (shift.id, [(s.id, s.status) for s in rows])
        live = [s.person_id for s in rows if s.status in LIVE]
        assert len(live) == len(set(live)), (shift.id, [(s.person_id, s.status) for s in rows])
        if shift.status == ShiftStatus.CANCELLED:
            now = {s.id or 0: s.status for s in rows if s.status in LIVE}
            before = frozen.setdefault(shift.id or 0, now)
            gained = {k: v for k, v in now.items() if before.get(k) != v}
            assert not gained, (shift.id, before, now)


_example = count()


@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(steps=STEPS)
async def test_dialogue_survives_any_conversation(
    seeded_db: Path, errors: ErrorLog, steps: list[tuple[str, tuple[str, str, str]]]
) -> None:
    """Every input is answered, nothing fails, and the sign-up rules hold after every step."""
    path = seeded_db.with_name(f"example-{next(_example)}.db")
    shutil.copyfile(seeded_db, path)
    url = f"sqlite:///{path}"
    store = Store.open(url)
    clock = ManualClock(T0)
    ctx = Context(store=store, settings=make_settings(url), clock=clock)
    dialogue = Dialogue(ctx)
    errors.records.clear()
    frozen: dict[int, dict[int, str]] = {}
    try:
        await check_invariants(ctx, frozen)
        for who, (kind, value, args) in steps:
            if kind == "tick":
                clock.advance(timedelta(hours=float(value)))
                await signups.expire_offers(ctx)
            else:
                inbound = inbound_for(PERSONAS[who], kind, value, args)
                if inbound is not None:
                    replies = await dialogue.handle(inbound)
                    assert replies, (who, kind, value, args)
                    assert all(r.text or r.document for r in replies), (who, value, replies)
            assert not errors.lines, (who, kind, value, args, errors.lines)
            await check_invariants(ctx, frozen)
    finally:
        await store.close()
        path.unlink(missing_ok=True)


# --- (c) forged callbacks through the real Telegram client, garbage webhook bodies ---------

CALLBACK_DATA = st.one_of(
    WELL_FORMED,
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=64),
).filter(lambda data: 1 <= len(data.encode()) <= 64)


@pytest_asyncio.fixture
async def running_bot(ctx: Context) -> AsyncIterator[tuple[FakeTelegramServer, int]]:
    """The real application polling the fake Bot API, a registered walker's chat with one
    message in it to press buttons on."""
    org = (await directory.add_organisation(ctx, OPERATOR, "IFK Kalmar")).id or 0
    area = (await directory.add_area(ctx, OPERATOR, "Baronen")).id or 0
    await add_shift(ctx, org, area)
    person = await directory.add_person(ctx, OPERATOR, name="Vera", telegram_id=4001,
                                        organisation=org)
    await directory.record_consent(ctx, person.id or 0)
    async with FakeTelegramServer() as tg:
        tg.add_user(4001, "Vera")
        bot_ctx = with_settings(ctx, telegram={"token": tg.token, "api_base_url": tg.base_url})
        channel = TelegramChannel(bot_ctx, Dialogue(bot_ctx))
        await channel.start()
        try:
            tg.send_text(4001, "/pass")
            message = await tg.wait_for_message(4001)
            yield tg, message.message_id
        finally:
            await channel.stop()
        tg.assert_no_violations()


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(data=CALLBACK_DATA)
async def test_forged_callback_data_is_answered(
    running_bot: tuple[FakeTelegramServer, int], errors: ErrorLog, data: str
) -> None:
    """Any 1–64 bytes of callback data: the press is answered, nothing fails."""
    tg, message_id = running_bot
    answered = len(tg.callback_answers)
    tg.press_button(4001, message_id, data)
    await tg.wait_until(lambda: len(tg.callback_answers) > answered, timeout=5)
    await tg.wait_until(lambda: not tg.pending_updates(), timeout=5)
    assert all(a.latency_s < 2 for a in tg.callback_answers[answered:])
    assert not errors.lines, (data, errors.lines)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
UPDATE_KEYS = ("message", "edited_message", "callback_query", "my_chat_member", "inline_query",
               "channel_post", "poll", "chat_join_request")
UPDATE_LIKE = st.fixed_dictionaries(
    {"update_id": st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none(),
                            st.floats(allow_nan=False), st.integers(min_value=10**20))},
    optional={key: JSON for key in UPDATE_KEYS},
)
BODIES = st.one_of(
    UPDATE_LIKE.map(lambda d: json.dumps(d).encode()),
    JSON.map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=3000),
    st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"{", b"null", b"[]", b'{"update_id": 1e400}', b"x" * 1_200_000,
                     b'{"update_id": 5, "message": {"text": 5}}',
                     b'{"update_id": 6, "callback_query": {"id": 1, "data": []}}']),
)
HEADER_CHARS = string.ascii_letters + string.digits + string.punctuation + " "
HEADERS = st.one_of(st.just("right"), st.just("wrong"), st.just("missing"),
                    st.text(HEADER_CHARS, max_size=40))


@pytest_asyncio.fixture
async def webhook_client(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    """The webhook route in front of an application that is built but never started."""
    hooked = with_settings(ctx, telegram={"token": "123456:" + "A" * 35, "mode": "webhook",
                                          "webhook_secret": "s3cret-s3cret-s3cret"},
                           http={"public_url": "https://vandra.example.se"})
    channel = TelegramChannel(hooked, Dialogue(hooked))
    app = Starlette(routes=webhook_routes(hooked, channel))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="https://vandra.example.se") as client:
        yield client


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=BODIES, secret=HEADERS)
async def test_garbage_webhook_bodies_never_500(
    webhook_client: httpx.AsyncClient, errors: ErrorLog, body: bytes, secret: str
) -> None:
    """Without the secret: 403. With it: 400 for what is not an update, 413 for a huge body,
    200 for anything Telegram-shaped. Never a 500."""
    headers: dict[str, Any] = {}
    if secret != "missing":
        headers[SECRET_HEADER] = {"right": "s3cret-s3cret-s3cret", "wrong": "nope"}.get(
            secret, secret)
    response = await webhook_client.post("/telegram/webhook", content=body, headers=headers)
    if secret != "right":
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 400, 413), (response.status_code, body[:200])
    assert not errors.lines


@pytest_asyncio.fixture
async def sms_client(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    """The SMS webhooks with a known walker, as ``vandra run`` serves them."""
    signed = with_settings(ctx, http={"public_url": PUBLIC}, sms={
        "account_sid": TEST_ACCOUNT_SID, "auth_token": TEST_AUTH_TOKEN,
        "from_number": TEST_FROM_NUMBER})
    person = await directory.add_person(signed, OPERATOR, name="Vera", phone=PHONE)
    await directory.record_consent(signed, person.id or 0)
    app = Starlette(routes=sms_routes(signed, Dialogue(signed)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=PUBLIC) as client:
        yield client


FORM_TEXT = st.text(st.characters(codec="utf-8"), max_size=200)


def _sendable(text: str) -> str:
    """What can travel in a form: lone surrogates cannot be encoded, so Twilio never sends them
    (the parser itself is tested with them above)."""
    return text.encode("utf-8", "replace").decode("utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sender=st.one_of(st.just(PHONE), FORM_TEXT),
       body=st.one_of(SMS_BODY.map(_sendable), FORM_TEXT),
       sid=st.one_of(st.none(), FORM_TEXT), extra=st.dictionaries(FORM_TEXT, FORM_TEXT,
                                                                  max_size=3),
       path=st.sampled_from(["/sms/inbound", "/sms/status"]))
async def test_odd_but_signed_sms_webhooks_never_500(
    sms_client: httpx.AsyncClient, errors: ErrorLog, sender: str, body: str, sid: str | None,
    extra: dict[str, str], path: str
) -> None:
    """Signed forms with any From, Body, MessageSid and extra fields: TwiML or 204."""
    headers, form = signed_inbound_form(TEST_AUTH_TOKEN, f"{PUBLIC}{path}", PHONE, body, sid)
    form = {**extra, **form, "From": sender}
    if path == "/sms/status":
        form.update(MessageStatus=body[:20], ErrorCode=sid or "")
    headers["X-Twilio-Signature"] = RequestValidator(TEST_AUTH_TOKEN).compute_signature(
        f"{PUBLIC}{path}", form)
    response = await sms_client.post(path, data=form, headers=headers)
    assert response.status_code == (200 if path == "/sms/inbound" else 204), response.text
    assert not errors.lines, errors.lines
