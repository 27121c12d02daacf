"""No personal data in the logs, at DEBUG too (docs/security.md).

The demo's weekend runs in-process with vandra's logging at DEBUG: registration, sign-ups in
Telegram and by SMS, reports with text, a calendar link and a dashboard link opened over HTTP,
and a Telegram registration whose statement fails. Everything logged is then searched for
every name, phone number (E.164 and national form), message text and link token that went in
or came out. A failing report on both backends shows that neither SQLAlchemy's parameters nor
PostgreSQL's ``Failing row contains (...)`` reach a log line.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.demo.cast import COORDINATOR, LEAD, NEWCOMER, WALKERS
from bot.demo.coordinator import the_coordinator
from bot.demo.scenes import newcomer_on_telegram, promotion, signups_by_sms, signups_on_telegram
from bot.demo.talk import tap, telegram_says, text_vandra
from bot.demo.weekend import KARIN_NOTE, the_weekend
from bot.demo.world import Demo, running
from bot.dialogue.engine import Dialogue
from bot.logging_setup import configure_logging, remove_logging_handler
from models.tables import Person
from scheduling.common.clock import ManualClock
from scheduling.common.config import Settings
from scheduling.common.context import Context
from scheduling.walks import signups
from tests.conftest import T0, make_settings
from tests.fakes.chat import Chat
from tests.helpers import add_people, add_shift, seed_org_area

FAILING_ID, FAILING_NAME = 71077, "Zlatan Felsson"
EXTRA_NOTE = "Hemlig anteckning om kvällen vid Ölandshamnen"
LINK = re.compile(r"https?://[^\s\"'<>]+/(?:ical/[^\s\"'<>]+\.ics|dashboard/login/[^\s\"'<>]+)")
LINK_TOKEN = re.compile(
    r"/(?:ical|dashboard/login)/([A-Za-z0-9_.~-]{16,}?)(?:\.ics)?(?=[\s\"'<]|$)"
)
QUIETED = (
    "httpx",
    "httpcore",
    "hpack",
    "apscheduler",
    "alembic",
    "telegram",
    "twilio",
    "aiohttp",
    "aiosqlite",
    "sqlalchemy",
    "psycopg",
    "uvicorn.access",
)


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """vandra's logging at DEBUG into a buffer; undone afterwards."""
    root = logging.getLogger()
    level = root.level
    levels = {name: logging.getLogger(name).level for name in QUIETED}
    stream = io.StringIO()
    configure_logging(make_settings("sqlite://", logging={"level": "DEBUG"}), stream)
    yield stream
    remove_logging_handler()
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def phone_forms(e164: str) -> set[str]:
    """+46701234501 as it may be written: E.164, national, with the usual separators."""
    national = "0" + e164.removeprefix("+46")
    return {
        e164,
        e164.removeprefix("+"),
        national,
        f"{national[:3]}-{national[3:]}",
        f"{national[:3]}-{national[3:6]} {national[6:8]} {national[8:]}",
        f"{national[:3]} {national[3:6]} {national[6:8]} {national[8:]}",
    }


def names_fed() -> set[str]:
    people = [*WALKERS, COORDINATOR, LEAD]
    full = {p.name for p in people} | {NEWCOMER, FAILING_NAME}
    parts = {part for name in full for part in name.split() if len(part) >= 4}
    return full | parts - {"(gruppledare)"}


def texts_that_went_out(demo: Demo) -> set[str]:
    """Each line of at least 16 characters vandra sent by Telegram or SMS."""
    calls = demo.tg.calls("sendMessage") + demo.tg.calls("editMessageText")
    bodies = [str(call.get("text", "")) for call in calls]
    bodies += [sms.body for sms in demo.twilio.sent]
    return {line.strip() for body in bodies for line in body.splitlines() if len(line) >= 16}


async def open_links(demo: Demo, links: list[str]) -> None:
    """GET each link over vandra's own HTTP app, as a phone or browser would."""
    for link in links:
        path = link.split("://", 1)[-1].split("/", 1)[-1]
        response = await demo.sms.get(f"/{path}")
        assert response.status_code < 500, (link, response.status_code)


async def a_registration_that_fails(demo: Demo) -> None:
    """A newcomer types a name; storing the person fails (a trigger refuses the insert)."""
    async with demo.ctx.store.engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE TRIGGER refuse_people BEFORE INSERT ON person "
                "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"
            )
        )
    demo.tg.add_user(FAILING_ID, FAILING_NAME.split()[0])
    demo.tg.send_text(FAILING_ID, "/start")
    await telegram_says(demo, FAILING_ID, "Vad heter du")
    demo.tg.send_text(FAILING_ID, FAILING_NAME)
    await tap(demo, FAILING_ID, await telegram_says(demo, FAILING_ID, "förening"), "IFK Kalmar")
    await tap(demo, FAILING_ID, await telegram_says(demo, FAILING_ID, "minst 18"), "Ja")
    consent = await telegram_says(demo, FAILING_ID, "Godkänner du")
    await tap(demo, FAILING_ID, consent, "Jag godkänner")
    await telegram_says(demo, FAILING_ID, "gick fel")


async def the_whole_flow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[set[str], set[str], list[str]]:
    """The demo's weekend plus links opened and a failing turn: texts that went in, texts that
    went out, the links."""
    settings: Settings = make_settings(  # the demo's newcomer waits for the lead's approval
        "sqlite:///unused.db", logging={"level": "DEBUG"}, walks={"approval": "required"}
    )
    async with running(settings, tmp_path / "demo.db", T0) as demo:
        friday = demo.shift_ids[0]
        await signups_on_telegram(demo, friday)
        await signups_by_sms(demo, friday)
        await newcomer_on_telegram(demo, friday)
        await promotion(demo, friday)
        await the_weekend(demo)
        await text_vandra(demo, WALKERS[3].phone or "", EXTRA_NOTE)
        anna = WALKERS[0].telegram_id or 0
        demo.tg.send_text(anna, "/mina")
        await telegram_says(demo, anna, "kalender")
        await the_coordinator(demo, tmp_path / "out")
        went_out = texts_that_went_out(demo)
        printed = capsys.readouterr().out  # the dashboard link is printed
        links = LINK.findall("\n".join([*went_out, printed]))
        await open_links(demo, links)
        await a_registration_that_fails(demo)
    return {KARIN_NOTE, EXTRA_NOTE}, went_out | texts_that_went_out(demo), links


async def test_a_whole_run_at_debug_logs_no_personal_data(
    tmp_path: Path, debug_log: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    """Names, phone numbers, message texts both ways and link tokens: none in any log line."""
    texts_in, went_out, links = await the_whole_flow(tmp_path, capsys)
    log = debug_log.getvalue()
    assert "dialogue failed on telegram input" in log  # the failing turn was logged
    assert "IntegrityError" in log
    tokens = {m for link in links for m in LINK_TOKEN.findall(link)}
    assert len(tokens) >= 2, links  # calendar links and a dashboard link
    phones = {form for w in WALKERS if w.phone for form in phone_forms(w.phone)}
    phones |= phone_forms("+46701234567")  # the number in Karin's note
    leaked = [
        thing
        for thing in [*names_fed(), *phones, *texts_in, *went_out, *tokens]
        if re.search(rf"(?<!\w){re.escape(thing)}(?!\w)", log)
    ]
    assert not leaked, leaked


async def failing_report_turn(ctx: Context, summary: str) -> str:
    """A walker's report by SMS whose summary cannot be stored (a constraint refuses it)."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=1), hours=4)
    (person,) = await add_people(ctx, 1, org=org)
    async with ctx.store.transaction() as session:
        stored = await session.get(Person, person.id)
        assert stored is not None
        stored.phone = "+46701234599"
        session.add(stored)
    await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    assert isinstance(ctx.clock, ManualClock)
    ctx.clock.advance(timedelta(hours=5, minutes=30))
    chat = Chat(
        Dialogue(ctx), channel="sms", address="+46701234599", telegram_id=None, phone="+46701234599"
    )
    await chat.command("report", str(shift.id))
    for answer in ("2", "3", "2", "2", "2", "2", "1 3", "1", "1 2", "2", "1", "4", "2", "1", "2"):
        await chat.say(answer)
    async with ctx.store.engine.begin() as connection:
        if ctx.store.engine.dialect.name == "sqlite":
            await connection.execute(
                text(
                    "CREATE TRIGGER no_summary BEFORE UPDATE OF summary ON report "
                    "WHEN NEW.summary IS NOT NULL BEGIN SELECT RAISE(ABORT, 'no summary'); END"
                )
            )
        else:  # PostgreSQL's error then says "Failing row contains (... the summary ...)"
            await connection.execute(
                text("ALTER TABLE report ADD CONSTRAINT no_summary CHECK (summary IS NULL)")
            )
    return await chat.say(summary)


async def test_a_failed_statement_logs_neither_parameters_nor_the_row(
    ctx: Context, debug_log: io.StringIO
) -> None:
    """The report's text is a parameter of the failing statement: the log line names the turn,
    the error's type and SQLSTATE and the statement with placeholders, never the text."""
    summary = "Bråk vid kiosken mellan tre ungdomar, en blödde näsblod"
    reply = await failing_report_turn(ctx, summary)
    assert "gick fel" in reply
    log = debug_log.getvalue()
    assert "dialogue failed on sms input" in log and "[SQL: UPDATE report SET" in log
    assert "Bråk" not in log and "kiosken" not in log and "+46701234599" not in log


async def test_statement_errors_hide_their_parameters(ctx: Context) -> None:
    """The engines hide parameters: the error's own text holds the SQL, not the values."""
    with pytest.raises(DBAPIError) as caught:
        async with ctx.store.engine.connect() as connection:
            await connection.execute(
                text("SELECT :summary FROM no_such_table"), {"summary": "Hemlig rapporttext"}
            )
    assert "Hemlig rapporttext" not in str(caught.value)
    assert "SQL parameters hidden" in str(caught.value)


def test_library_detail_is_dropped_and_vandra_debug_kept(debug_log: io.StringIO) -> None:
    """Below INFO only vandra's own loggers speak: a library's DEBUG line (python-telegram-bot
    logs each call's parameters there) is dropped even when its logger lets it through."""
    chatty = logging.getLogger("some.library")
    chatty.setLevel(logging.DEBUG)
    try:
        chatty.debug("Calling sendMessage with text %s", "Hej Anna Lindqvist")
        chatty.info("library started")
        logging.getLogger("vandra.test").debug("outbox message 12 claimed")
    finally:
        chatty.setLevel(logging.NOTSET)
    log = debug_log.getvalue()
    assert "Anna" not in log and "library started" in log and "outbox message 12" in log


def test_a_traceback_keeps_its_frames_and_network_errors_but_no_messages(
    debug_log: io.StringIO,
) -> None:
    """Each exception of the chain by type; a connection error's message stays (it names a
    host), any other message (int("Anna Lindqvist") names its input) is withheld."""
    typed = "Anna " + "Lindqvist"  # the source lines shown are code, not data
    try:
        try:
            int(typed)
        except ValueError as error:
            raise ConnectionRefusedError("connect to 127.0.0.1:5432 refused") from error
    except OSError:
        logging.getLogger("vandra.test").exception("store unreachable for +46701234501")
    log = debug_log.getvalue()
    assert "Anna" not in log and "+46701234501" not in log and "[phone]" in log
    assert "ValueError: [message withheld]" in log and "direct cause" in log
    assert "ConnectionRefusedError: connect to 127.0.0.1:5432 refused" in log
    assert "in test_a_traceback_keeps_its_frames" in log and "int(typed)" in log
