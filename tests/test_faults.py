"""Faults while updates are handled: the Telegram Bot API answering 500, 429 or not at all,
and PostgreSQL connections dropped between and during inputs. The bot keeps running, replies
arrive once (after a retry) or the failure is logged, and afterwards nothing is lost or
doubled. (Twilio's errors on outgoing SMS are the dispatcher's, tested with it.)
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest
import pytest_asyncio
from sqlalchemy import event, text
from sqlmodel import col, select
from starlette.applications import Starlette

import models.engine
from bot.channels.sms_webhook import sms_routes
from bot.channels.telegram import TelegramChannel
from bot.dialogue.engine import Dialogue
from fakes.telegram_server import FakeTelegramServer, SentMessage
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    signed_inbound_form,
)
from models import first_write, thin
from models.db import Store, upgrade
from models.tables import OutboxMessage, Signup, SignupStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.people import directory
from tests.conftest import POSTGRES_URL, T0, _libpq_url, make_settings, postgres_unavailable
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, add_shift, seed_org_area, with_settings
from tests.postgres_needed import unavailable

ANNA = 1001
SORRY = "Något gick fel"


class Logged(logging.Handler):
    """WARNING and ERROR records, as ``name: message``."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


@pytest.fixture
def logged() -> Iterator[Logged]:
    handler = Logged()
    loggers = [logging.getLogger(name) for name in ("vandra", "telegram")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


# --- the Telegram Bot API failing ---------------------------------------------------------


@pytest_asyncio.fixture
async def bot(tmp_path: Any) -> AsyncIterator[tuple[FakeTelegramServer, Context]]:
    """The real application polling the fake Bot API; Anna is registered, a shift is open.
    (SQLite only: these faults are the Bot API's, not the store's.)"""
    url = f"sqlite:///{tmp_path / 'vandra.db'}"
    store = Store.open(url)
    await upgrade(store.engine)
    ctx = Context(store=store, settings=make_settings(url), clock=ManualClock(T0))
    org, area = await seed_org_area(ctx)
    await add_shift(ctx, org, area)
    anna = await directory.add_person(ctx, OPERATOR, name="Anna", telegram_id=ANNA,
                                      organisation=org)
    await directory.record_consent(ctx, anna.id or 0)
    try:
        async with FakeTelegramServer() as tg:
            tg.add_user(ANNA, "Anna")
            bot_ctx = with_settings(ctx, telegram={"token": tg.token,
                                                   "api_base_url": tg.base_url})
            channel = TelegramChannel(bot_ctx, Dialogue(bot_ctx))
            await channel.start()
            try:
                yield tg, bot_ctx
            finally:
                await channel.stop()
            tg.assert_no_violations()
    finally:
        await store.close()


async def reply_to(tg: FakeTelegramServer, text: str, words: str,
                   timeout: float = 10) -> SentMessage:  # noqa: ASYNC109 - a test deadline
    """Send ``text`` as Anna; the (one) new message containing ``words``."""
    before = {m.message_id for m in tg.messages_to(ANNA)}
    tg.send_text(ANNA, text)

    def new() -> list[SentMessage]:
        return [m for m in tg.messages_to(ANNA)
                if m.message_id not in before and words in (m.text or "")]

    await tg.wait_until(lambda: bool(new()), timeout=timeout)
    await tg.wait_until(lambda: not tg.pending_updates(), timeout=timeout)
    await asyncio.sleep(0.15)  # a doubled reply would have arrived by now
    found = new()
    assert len(found) == 1, [m.text for m in found]
    return found[0]


async def test_bot_rides_out_500s_and_429s(bot: tuple[FakeTelegramServer, Context],
                                           logged: Logged) -> None:
    """getUpdates failing, sendMessage answering 500 twice, then 429 retry_after=1, a failed
    answerCallbackQuery and a 502 on the edit: every reply still arrives, exactly once."""
    tg, _ctx = bot
    tg.fail_next("getUpdates", 500)
    await reply_to(tg, "/hjalp", "vandra")
    tg.fail_next("sendMessage", 500, count=2)
    listing = await reply_to(tg, "/pass", "Kommande pass")
    tg.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    await reply_to(tg, "/mina", "kalender")
    assert time.monotonic() - started >= 1  # it waited as asked
    tg.fail_next("answerCallbackQuery", 500)
    tg.fail_next("editMessageText", 502)
    tg.press_button(ANNA, listing.message_id, listing.callback_data_for("fre"))

    def card() -> SentMessage | None:  # the listing, edited into the shift's card
        edited = [m for m in tg.messages_to(ANNA) if m.message_id == listing.message_id]
        return edited[0] if edited and (edited[0].text or "").startswith("Pass ") else None

    await tg.wait_until(lambda: card() is not None)
    assert card() is not None and card().edit_count == 1  # type: ignore[union-attr]
    assert await reply_to(tg, "/hjalp", "vandra")  # and it carries on as usual
    assert not [line for line in logged.lines if "update failed" in line], logged.lines
    assert any("trying again" in line for line in logged.lines)


async def test_timed_out_reply_is_logged_not_repeated(bot: tuple[FakeTelegramServer, Context],
                                                      logged: Logged) -> None:
    """sendMessage takes effect but its answer never comes (the client gives up after 5 s):
    the reply is not sent a second time, the failure is logged, the next update is answered."""
    tg, _ctx = bot
    tg.fail_next("sendMessage", "timeout", delay=6)
    await reply_to(tg, "/pass", "Kommande pass", timeout=15)
    await tg.wait_until(lambda: any("TimedOut" in line for line in logged.lines), timeout=10)
    await reply_to(tg, "/hjalp", "vandra")
    listings = [m for m in tg.messages_to(ANNA) if "Kommande pass" in (m.text or "")]
    assert len(listings) == 1


# --- PostgreSQL connections dropped ---------------------------------------------------------


@pytest_asyncio.fixture
async def pg() -> AsyncIterator[tuple[Context, str]]:
    """A store in a PostgreSQL schema of its own whose connections carry an application name
    of their own, so that only they are terminated."""
    problem = postgres_unavailable()
    if problem:
        unavailable(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    app_name = f"vandra-faults-{schema}"
    with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}&application_name={app_name}"
    store = Store.open(url)
    try:
        await upgrade(store.engine)
        yield Context(store=store, settings=make_settings(url), clock=ManualClock(T0)), app_name
    finally:
        await store.close()
        with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def terminate(where: str, *args: Any) -> int:
    """Terminate the backends matching ``where`` (other than this one); how many there were."""
    with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as admin:
        pids = [row[0] for row in admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            f"AND pid <> pg_backend_pid() AND {where}", args).fetchall()]
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(100):  # until they are gone
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)",
                                 (pids,)).fetchall():
                break
            time.sleep(0.01)
    return len(pids)


class Saboteur:
    """Kills the connection a statement is about to run on, once, when armed with a
    fragment of its SQL: the connection drops in the middle of handling an input."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fragment: str | None = None
        self.fired = 0
        event.listen(store.engine.sync_engine, "before_cursor_execute", self._before)
        send = thin._send

        async def before_thin(cursor: Any, compiled: Any, params: Any) -> Any:
            self._kill(compiled.sql, cursor.connection)  # a statement models/thin.py sends
            return await send(cursor, compiled, params)

        monkeypatch.setattr(thin, "_send", before_thin)

    def arm(self, fragment: str) -> None:
        self.fragment, self.fired = fragment, 0

    def _before(self, conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self._kill(statement, conn.connection.driver_connection)

    def _kill(self, statement: str, driver: Any) -> None:
        if self.fragment is not None and self.fragment in statement:
            self.fragment = None
            self.fired += terminate("pid = %s", driver.info.backend_pid)


@pytest.mark.postgres
async def test_dropped_postgres_connections(
    pg: tuple[Context, str], logged: Logged, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Idle pool connections killed between inputs: the next inputs just work (a connection
    idle for seconds is checked before use; one used moments ago fails its first statement,
    and the turn, or the SMS, is handled once more).
    A connection killed while an input is handled: while the conversation loads (nothing done
    yet) the turn is tried once more (the answer is the usual one); later in the turn the
    turn is all or nothing (an apology, no seat, the conversation where it was; the person's
    retry signs up once); an SMS whose receipt failed is handled once more at once (the
    receipt keeps a repost from doing anything). Afterwards each walker holds exactly one
    seat."""
    ctx, app_name = pg
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=4)
    phone = "+46701234567"
    ids = {}
    for n, contact in enumerate(({"telegram_id": 2001}, {"telegram_id": 2002},
                                 {"telegram_id": 2003}, {"phone": phone})):
        person = await directory.add_person(ctx, OPERATOR, name=f"W{n}", organisation=org,
                                            **contact)
        ids[n] = (await directory.record_consent(ctx, person.id or 0)).id or 0
    public = "https://v.example.se"
    sms_ctx = with_settings(ctx, http={"public_url": public}, sms={
        "account_sid": TEST_ACCOUNT_SID, "auth_token": TEST_AUTH_TOKEN,
        "from_number": TEST_FROM_NUMBER})
    dialogue = Dialogue(sms_ctx)
    chats = [Chat(dialogue, address=str(2001 + n), telegram_id=2001 + n, name=f"W{n}")
             for n in range(3)]
    saboteur = Saboteur(ctx.store, monkeypatch)
    app = Starlette(routes=sms_routes(sms_ctx, dialogue))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a server's 500
    async with httpx.AsyncClient(transport=transport, base_url=public) as client:

        async def text(body: str, sid: str | None = None) -> httpx.Response:
            headers, form = signed_inbound_form(TEST_AUTH_TOKEN, f"{public}/sms/inbound",
                                                phone, body, sid)
            return await client.post("/sms/inbound", data=form, headers=headers)

        assert "anmäld" in await chats[0].act(f"signup:{shift.id}")
        assert terminate("application_name = %s", app_name) >= 1  # the idle pool, killed
        assert f"Pass {shift.id}" in await chats[0].act(f"shift:{shift.id}")
        assert "anmäld" in (await text(f"JA {shift.id}")).text

        saboteur.arm("FOR UPDATE")  # while deciding on the seat
        assert SORRY in await chats[1].act(f"signup:{shift.id}")
        assert saboteur.fired == 1 and await _seats(ctx, ids[1]) == []  # all or nothing
        assert "anmäld" in await chats[1].act(f"signup:{shift.id}")

        saboteur.arm("JOIN conversation")  # while loading who is talking
        assert "anmäld" in await chats[2].act(f"signup:{shift.id}")
        # while saving where the conversation is (on psycopg one upsert, the turn's last
        # statement, with the COMMIT in its round trip: models/first_write.py)
        saved = "INTO conversation" if first_write.available(ctx.store.engine) else "UPDATE conv"
        saboteur.arm(saved)
        assert SORRY in await chats[2].act(f"cancel:{shift.id}")
        assert saboteur.fired == 1
        assert [s.status for s in await _seats(ctx, ids[2])] == [SignupStatus.CONFIRMED]
        assert f"Pass {shift.id}" in await chats[2].act(f"shift:{shift.id}")

        saboteur.arm("INSERT INTO inbound_receipt")  # the SMS is handled once more at once
        sid = "SM" + uuid.uuid4().hex
        first = await text("MINA", sid)
        assert first.status_code == 200 and f"{shift.id} " in first.text
        assert saboteur.fired == 1
        assert "<Message>" not in (await text("MINA", sid)).text  # posted again: no effect
    failures = [line for line in logged.lines if line.startswith("ERROR")]
    assert len(failures) == 2, failures  # the seat's and the cancellation's turns
    assert all("dialogue failed" in line for line in failures), failures
    # the load after the idle connections were killed (used moments before, so not checked
    # before use), and the one sabotaged while loading
    assert sum("trying once more" in line for line in logged.lines) == 2
    assert sum("handling the SMS once more" in line for line in logged.lines) == 1
    for n in range(4):
        assert [s.status for s in await _seats(ctx, ids[n])] == [SignupStatus.CONFIRMED], n
    async with ctx.store.sessions() as session:
        keys = (await session.exec(select(OutboxMessage.dedupe_key))).all()
    assert len(keys) == len(set(keys))


@pytest.mark.postgres
async def test_a_connection_idle_a_while_is_checked_before_use(
    pg: tuple[Context, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections that sat in the pool longer than PING_AFTER_IDLE_S and died meanwhile are
    found out by the check on checkout and replaced: no statement fails; connections used
    moments ago are not checked (that round trip is what the check saves)."""
    ctx, app_name = pg
    pings: list[object] = []
    ping = ctx.store.engine.sync_engine.dialect.do_ping
    monkeypatch.setattr(
        ctx.store.engine.sync_engine.dialect, "do_ping",
        lambda connection: (pings.append(connection), ping(connection))[1],
    )
    for _ in range(3):
        async with ctx.store.transaction() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    assert pings == []  # each came back moments before
    monkeypatch.setattr(models.engine, "PING_AFTER_IDLE_S", 0.0)
    assert terminate("application_name = %s", app_name) >= 1
    async with ctx.store.transaction() as session:
        assert (await session.exec(text("SELECT 2"))).one() == (2,)  # type: ignore[call-overload]
    assert len(pings) >= 1


async def _seats(ctx: Context, person_id: int) -> list[Signup]:
    async with ctx.store.sessions() as session:
        return list((await session.exec(
            select(Signup).where(col(Signup.person_id) == person_id))).all())
