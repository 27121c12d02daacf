"""PostgreSQL stopped and started again under a running `vandra run`.

A cluster of the test's own (``private_postgres``) is really stopped (``pg_ctl -m fast
stop``) while `vandra run` sends a call for walkers by SMS (the fake Twilio server) and by
Telegram (the fake Bot API), and while walkers answer it. The process keeps running and says
the store is down; once PostgreSQL is back, every call has arrived exactly once and every
sign-up exists exactly once. The fakes run in this test's event loop, so `vandra run` is
started with asyncio (as in ``tests/test_crash.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from fakes.telegram_server import FakeTelegramServer, SentMessage
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilioServer,
    signed_inbound_form,
)
from models.db import Store, upgrade
from models.tables import Broadcast, InboundReceipt, OutboxMessage, Signup, SignupStatus
from scheduling.common.clock import SystemClock
from scheduling.common.config import load_settings
from scheduling.common.context import Context
from scheduling.messages.broadcast import call_for_walkers
from scheduling.messages.kinds import Kind
from scheduling.people.directory import add_person, record_consent
from tests.helpers import OPERATOR, add_shift, seed_org_area
from tests.pg_cluster import PostgresCluster
from tests.test_run import free_port, vandra_env

ROOT = Path(__file__).resolve().parents[1]
SMS_WALKERS = 30  # at 5 SMS a second: six seconds of sending, the outage in the middle
TELEGRAM_WALKERS = 6  # at 2 a second
OUTAGE_S = 4.0
CALL = "Vi behöver fler vuxenvandrare"
SORRY = "Något gick fel"
SIGNED_UP = "Du är anmäld"
SID_DURING, SID_AFTER = "SM" + "0" * 31 + "1", "SM" + "0" * 31 + "2"  # inbound SMS ids


def run_env(tmp_path: Path, url: str, tw: FakeTwilioServer,
            tg: FakeTelegramServer) -> dict[str, str]:
    port = free_port()
    env = vandra_env(
        tmp_path,
        VANDRA_DATABASE_URL=url,
        VANDRA_HTTP_PORT=str(port),
        VANDRA_HTTP_PUBLIC_URL=f"http://127.0.0.1:{port}",
        VANDRA_SMS_ACCOUNT_SID=TEST_ACCOUNT_SID,
        VANDRA_SMS_AUTH_TOKEN=TEST_AUTH_TOKEN,
        VANDRA_SMS_FROM_NUMBER=TEST_FROM_NUMBER,
        VANDRA_SMS_API_BASE_URL=tw.base_url,
        VANDRA_SMS_MAX_MESSAGES_PER_SECOND="5",
        VANDRA_TELEGRAM_TOKEN=tg.token,
        VANDRA_TELEGRAM_API_BASE_URL=tg.base_url,
        VANDRA_TELEGRAM_MAX_MESSAGES_PER_SECOND="2",
        VANDRA_LOGGING_FORMAT="json",
    )
    # The code under test is this checkout's, wherever the virtualenv was installed from.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


async def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.05)


def log_records(path: Path) -> list[dict[str, Any]]:
    """Every line `vandra run` wrote to stderr, each of which must be a JSON log record:
    anything else (a traceback printed by a crash, say) fails the test."""
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"stderr line that is not a log record: {line!r}") from None
    return records


@pytest.mark.postgres
@pytest.mark.slow
async def test_postgres_restart_under_vandra_run(private_postgres: PostgresCluster,
                                                  tmp_path: Path) -> None:
    """Stop PostgreSQL in the middle of a call for walkers (36 recipients, SMS and Telegram)
    for four seconds, with a Telegram sign-up and an SMS sign-up arriving meanwhile: the process
    keeps running, /healthz says the store is down, the Telegram walker gets the apology and the
    SMS webhook a 500 (and is posted again later, as Twilio would). After the restart /healthz
    is OK, every
    recipient has the call exactly once, every outbox row is sent, the retried sign-ups are
    recorded once each, and SIGTERM still stops the process with exit code 0."""
    cluster = private_postgres
    async with FakeTwilioServer() as tw, FakeTelegramServer() as tg:
        env = run_env(tmp_path, cluster.url, tw, tg)
        public = env["VANDRA_HTTP_PUBLIC_URL"]
        settings = load_settings(None, environ=env)
        store = Store.open(cluster.url)
        ctx = Context(store=store, settings=settings, clock=SystemClock())
        try:
            await upgrade(store.engine)
            org, area = await seed_org_area(ctx)
            shift = await add_shift(ctx, org, area, min_walkers=4)
            phones, chats, ids = [], [], {}
            for n in range(TELEGRAM_WALKERS):
                chat = 7_000_000 + n
                tg.add_user(chat, f"Tg{n}")
                person = await add_person(ctx, OPERATOR, name=f"Tg {n}", telegram_id=chat,
                                          organisation=org)
                await record_consent(ctx, person.id or 0)
                chats.append(chat)
                ids[chat] = person.id
            for n in range(SMS_WALKERS):
                person = await add_person(ctx, OPERATOR, name=f"Sms {n}", phone=f"07013{n:05d}",
                                          organisation=org)
                person = await record_consent(ctx, person.id or 0)
                assert person.phone is not None
                phones.append(person.phone)
                ids[person.phone] = person.id
        finally:
            await store.close()

        stderr = tmp_path / "vandra-run.log"
        with stderr.open("w") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
                stdout=asyncio.subprocess.DEVNULL, stderr=log_file)
        exited = asyncio.ensure_future(process.wait())
        http = httpx.AsyncClient(base_url=public, timeout=5)
        try:

            async def health() -> tuple[int, dict[str, Any]]:
                response = await http.get("/healthz")
                return response.status_code, response.json()

            async def text(phone: str, body: str, sid: str) -> httpx.Response:
                headers, form = signed_inbound_form(TEST_AUTH_TOKEN, f"{public}/sms/inbound",
                                                    phone, body, sid)
                return await http.post("/sms/inbound", data=form, headers=headers)

            def calls_to(chat: int) -> list[SentMessage]:
                return [m for m in tg.messages_to(chat) if CALL in (m.text or "")]

            def texts_to(chat: int, words: str) -> list[SentMessage]:
                return [m for m in tg.messages_to(chat) if words in (m.text or "")]

            # Running, all healthy; the call is queued while it runs.
            for _ in range(200):
                assert not exited.done(), f"vandra run exited: {stderr.read_text()[-3000:]}"
                try:
                    code, body = await health()
                    if code == 200 and "telegram" in body["checks"]:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("vandra run did not become healthy")
            store = Store.open(cluster.url)
            try:
                call = await call_for_walkers(
                    Context(store=store, settings=settings, clock=SystemClock()),
                    OPERATOR, shift.id or 0)
            finally:
                await store.close()
            assert call.recipients == SMS_WALKERS + TELEGRAM_WALKERS

            # Some of it sent; then PostgreSQL stops.
            await wait_until(lambda: len(tw.sent) >= 6 and bool(calls_to(chats[0])), 15,
                             "the first calls")
            await asyncio.to_thread(cluster.stop, "fast")
            before = len(tw.sent)

            # A walker on Telegram answers the call: an apology, once. One on SMS: a 500 and
            # nothing recorded, so that the same message posted again is handled.
            tg.press_button(chats[0], calls_to(chats[0])[0].message_id, f"signup:{shift.id}")
            refused = await text(phones[0], f"JA {shift.id}", SID_DURING)
            assert refused.status_code == 500
            await tg.wait_until(lambda: bool(texts_to(chats[0], SORRY)), timeout=10)
            code, body = await health()
            assert code == 503 and body["checks"]["store"] == "down", body
            assert {name for name, state in body["checks"].items() if state != "ok"} == {"store"}
            await asyncio.sleep(OUTAGE_S)  # several ticks meanwhile
            assert not exited.done(), stderr.read_text()[-3000:]
            down = log_records(stderr)
            assert any(r["logger"] == "vandra.ticker" and r["level"] == "ERROR" for r in down)

            await asyncio.to_thread(cluster.start)
            for _ in range(100):
                assert not exited.done(), stderr.read_text()[-3000:]
                code, body = await health()
                if code == 200:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"/healthz not OK after the restart: {body}")

            # Twilio's retry is handled, once; a third post changes nothing.
            again = await text(phones[0], f"JA {shift.id}", SID_DURING)
            assert again.status_code == 200 and "anmäld" in again.text, again.text
            assert "<Message>" not in (await text(phones[0], f"JA {shift.id}", SID_DURING)).text
            assert "anmäld" in (await text(phones[1], f"JA {shift.id}", SID_AFTER)).text
            # The Telegram walker taps again.
            tg.press_button(chats[0], calls_to(chats[0])[0].message_id, f"signup:{shift.id}")
            await tg.wait_until(lambda: bool(texts_to(chats[0], SIGNED_UP)), timeout=10)

            # Everyone gets the call.
            def everyone() -> bool:
                return (set(phones) <= {s.to for s in tw.sent}
                        and all(calls_to(chat) for chat in chats))

            await wait_until(everyone, 30, "the call to everyone")
            store = Store.open(cluster.url)
            try:
                for _ in range(100):
                    statuses = await _call_statuses(store)
                    if statuses == Counter({"sent": SMS_WALKERS + TELEGRAM_WALKERS}):
                        break
                    await asyncio.sleep(0.2)
                assert statuses == Counter({"sent": SMS_WALKERS + TELEGRAM_WALKERS}), statuses
                await asyncio.sleep(1)  # anything still on its way has arrived by now
                async with store.sessions() as session:
                    keys = (await session.exec(select(OutboxMessage.dedupe_key))).all()
                    signups = (await session.exec(
                        select(Signup).where(col(Signup.shift_id) == shift.id))).all()
                    receipts = (await session.exec(
                        select(InboundReceipt.external_id)
                        .where(col(InboundReceipt.channel) == "sms"))).all()
                    calls = (await session.exec(select(Broadcast))).all()
            finally:
                await store.close()
            assert not exited.done()
        finally:
            await http.aclose()
            if not exited.done():
                process.send_signal(signal.SIGTERM)
            try:
                exit_code = await asyncio.wait_for(asyncio.shield(exited), 12)
            except TimeoutError:
                process.kill()
                await exited
                raise
        assert exit_code == 0, stderr.read_text()[-3000:]
        tg.assert_no_violations()

    assert before < SMS_WALKERS  # the outage did fall in the middle of the sending
    sms_calls = Counter(s.to for s in tw.sent if "vuxenvandrare" in s.body)
    assert sms_calls == Counter({phone: 1 for phone in phones}), sms_calls
    assert {chat: len(calls_to(chat)) for chat in chats} == {chat: 1 for chat in chats}
    assert len(texts_to(chats[0], SORRY)) == 1
    assert len(keys) == len(set(keys)) and len(calls) == 1
    assert sorted(receipts) == [SID_DURING, SID_AFTER]
    assert sorted(s.person_id for s in signups) == sorted(
        [ids[chats[0]], ids[phones[0]], ids[phones[1]]])  # each once
    assert {s.status for s in signups} == {SignupStatus.CONFIRMED}

    records = log_records(stderr)
    assert not [r for r in records if r["level"] == "CRITICAL" or r["logger"] == "asyncio"]
    failures = Counter((r["logger"], r["level"]) for r in records
                       if r["level"] in ("WARNING", "ERROR"))
    assert failures[("vandra.ticker", "ERROR")] >= 2, failures  # ticks failed, were logged
    assert any(logger == "vandra.dispatch" for logger, _ in failures), failures  # and sends
    print(f"\npg restart: {before} of {SMS_WALKERS} SMS sent before the stop; logged {failures}")


async def _call_statuses(store: Store) -> Counter[str]:
    async with store.sessions() as session:
        rows = (await session.exec(
            select(OutboxMessage.status).where(col(OutboxMessage.kind) == Kind.CALL_FOR_WALKERS)
        )).all()
    return Counter(rows)
