"""Webhook floods: 1,000 forged SMS webhooks (bad or missing signatures) and 1,000 forged
Telegram webhooks (wrong or missing secret) are refused with 403 and change nothing, while the
genuine requests sent in between are still served, each with its effect exactly once (also
when Twilio or Telegram deliver it twice).

The requests go through the HTTP app ``vandra run`` serves (``bot.http.build_app`` with the
SMS and Telegram webhook routes) over httpx's ASGI transport, many at a time. Only counts and
statuses are asserted; the elapsed time is printed.
"""

from __future__ import annotations

import asyncio
import base64
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import col, select
from twilio.request_validator import RequestValidator

from bot.bootstrap import bootstrap, close_senders
from bot.channels.telegram_webhook import SECRET_HEADER
from fakes.telegram_server import FakeTelegramServer
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    signed_inbound_form,
)
from models.tables import Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.people import directory
from tests.helpers import OPERATOR, add_shift, seed_org_area, with_settings

PUBLIC = "https://vandra.example.se"
SECRET = "fl00d-s3cret-fl00d"
FORGED = 1000
GENUINE = 25  # walkers on each channel; each sends one genuine request, delivered twice
CONCURRENCY = 32


def forged_sms(rng: random.Random, phone: str, body: str) -> tuple[dict[str, str], dict[str, str]]:
    """A webhook that did not come from Twilio: no, random, wrong-key, stale or misplaced
    signature."""
    headers, form = signed_inbound_form(TEST_AUTH_TOKEN, f"{PUBLIC}/sms/inbound", phone, body)
    kind = rng.randrange(5)
    if kind == 0:
        del headers["X-Twilio-Signature"]
    elif kind == 1:
        headers["X-Twilio-Signature"] = base64.b64encode(rng.randbytes(20)).decode()
    elif kind == 2:
        headers["X-Twilio-Signature"] = RequestValidator("not-the-token").compute_signature(
            f"{PUBLIC}/sms/inbound", form)
    elif kind == 3:
        form["Body"] = body + " "  # signed, then tampered with
    else:
        headers["X-Twilio-Signature"] = RequestValidator(TEST_AUTH_TOKEN).compute_signature(
            f"{PUBLIC}/sms/status", form)  # signed for another URL
    return headers, form


def forged_secret(rng: random.Random) -> dict[str, str]:
    choice = rng.choice([None, "", "nope", SECRET + "x", SECRET[:-1], SECRET.upper(), " " + SECRET])
    return {} if choice is None else {SECRET_HEADER: choice}


def callback_update(update_id: int, user_id: int, data: str) -> dict[str, Any]:
    """A button press in the user's private chat, as Telegram posts it."""
    user = {"id": user_id, "is_bot": False, "first_name": f"W{user_id}", "language_code": "sv"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(9_000_000 + update_id),
            "from": user,
            "chat_instance": str(user_id * 7),
            "data": data,
            "message": {"message_id": 1, "date": 0, "text": "Pass",
                        "chat": {"id": user_id, "type": "private"},
                        "from": {"id": 1, "is_bot": True, "first_name": "Vandra"}},
        },
    }


async def test_forged_floods_are_refused_and_genuine_requests_served(ctx: Context) -> None:
    """2,000 forged webhooks: all 403, no effect. 50 genuine ones in between (each delivered
    twice): all 200, each walker signed up exactly once."""
    org, area = await seed_org_area(ctx)
    by_sms = await add_shift(ctx, org, area, max_walkers=100)
    by_telegram = await add_shift(ctx, org, area, start_in=timedelta(days=4), max_walkers=100)
    target = await add_shift(ctx, org, area, start_in=timedelta(days=5), max_walkers=100)
    phones = [f"+4670333{n:04d}" for n in range(GENUINE)]
    telegram_ids = [7000 + n for n in range(GENUINE)]
    for n in range(GENUINE):
        for contact in ({"phone": phones[n]}, {"telegram_id": telegram_ids[n]}):
            person = await directory.add_person(ctx, OPERATOR, name=f"Walker {n} {contact}",
                                                organisation=org, **contact)
            await directory.record_consent(ctx, person.id or 0)
    async with FakeTelegramServer() as tg:
        for user_id in telegram_ids:
            tg.add_user(user_id, f"W{user_id}")
        app_ctx = with_settings(
            ctx,
            http={"public_url": PUBLIC},
            sms={"account_sid": TEST_ACCOUNT_SID, "auth_token": TEST_AUTH_TOKEN,
                 "from_number": TEST_FROM_NUMBER},
            telegram={"token": tg.token, "api_base_url": tg.base_url, "mode": "webhook",
                      "webhook_secret": SECRET},
        )
        vandra = bootstrap(app_ctx.settings, clock=app_ctx.clock, store=app_ctx.store)
        channel = vandra.telegram
        assert channel is not None
        await channel.start()
        try:
            statuses, sms_replies, elapsed = await _flood(vandra.http, phones, telegram_ids,
                                                          by_sms.id or 0, by_telegram.id or 0,
                                                          target.id or 0)
            await _wait_for_signups(ctx, by_telegram.id or 0, GENUINE)
        finally:
            await channel.stop()
            await close_senders(vandra.senders)
    print(f"\n{2 * FORGED} forged + {4 * GENUINE} genuine webhook requests in {elapsed:.2f} s "
          f"({(2 * FORGED + 4 * GENUINE) / elapsed:.0f}/s): {dict(statuses)}")
    assert statuses == Counter({("sms", "forged", 403): FORGED, ("telegram", "forged", 403): FORGED,
                                ("sms", "genuine", 200): 2 * GENUINE,
                                ("telegram", "genuine", 200): 2 * GENUINE})
    assert Counter(sms_replies) == {"anmäld": GENUINE, "": GENUINE}  # the repeat: no answer
    assert await _signed_up(ctx, by_sms.id or 0) == GENUINE
    assert await _signed_up(ctx, by_telegram.id or 0) == GENUINE
    assert await _signed_up(ctx, target.id or 0) == 0  # nothing forged got through


async def _flood(app: Any, phones: list[str], telegram_ids: list[int], sms_shift: int,
                 telegram_shift: int, target: int) -> tuple[Counter[tuple[str, str, int]],
                                                            list[str], float]:
    rng = random.Random(7)
    statuses: Counter[tuple[str, str, int]] = Counter()
    sms_replies: list[str] = []
    jobs: list[Callable[[httpx.AsyncClient], Awaitable[None]]] = []

    def sms_job(headers: dict[str, str], form: dict[str, str], kind: str) -> Any:
        async def run(client: httpx.AsyncClient) -> None:
            response = await client.post("/sms/inbound", data=form, headers=headers)
            statuses["sms", kind, response.status_code] += 1
            if kind == "genuine":
                sms_replies.append("anmäld" if "anmäld" in response.text else "")
        return run

    def telegram_job(update: dict[str, Any], headers: dict[str, str], kind: str) -> Any:
        async def run(client: httpx.AsyncClient) -> None:
            response = await client.post("/telegram/webhook", json=update, headers=headers)
            statuses["telegram", kind, response.status_code] += 1
        return run

    for n in range(FORGED):
        who = n % len(phones)
        jobs.append(sms_job(*forged_sms(rng, phones[who], f"JA {target}"), "forged"))
        update = callback_update(500_000 + n, telegram_ids[who], f"signup:{target}")
        jobs.append(telegram_job(update, forged_secret(rng), "forged"))
        if n % (FORGED // GENUINE) == 0:
            k = n // (FORGED // GENUINE)
            signed = signed_inbound_form(TEST_AUTH_TOKEN, f"{PUBLIC}/sms/inbound", phones[k],
                                         f"JA {sms_shift}")
            genuine = callback_update(100 + k, telegram_ids[k], f"signup:{telegram_shift}")
            for _ in range(2):  # Twilio and Telegram retry: the second delivery is a no-op
                jobs.append(sms_job(*signed, "genuine"))
                jobs.append(telegram_job(genuine, {SECRET_HEADER: SECRET}, "genuine"))
    gate = asyncio.Semaphore(CONCURRENCY)

    async def gated(job: Callable[[httpx.AsyncClient], Awaitable[None]],
                    client: httpx.AsyncClient) -> None:
        async with gate:
            await job(client)

    started = time.perf_counter()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=PUBLIC) as client:
        await asyncio.gather(*(gated(job, client) for job in jobs))
    return statuses, sms_replies, time.perf_counter() - started


async def _signed_up(ctx: Context, shift_id: int) -> int:
    async with ctx.store.sessions() as session:
        rows = (await session.exec(select(Signup).where(col(Signup.shift_id) == shift_id))).all()
    assert len({s.person_id for s in rows}) == len(rows)  # one row per walker, never two
    return sum(1 for s in rows if s.status == SignupStatus.CONFIRMED)


async def _wait_for_signups(ctx: Context, shift_id: int, expected: int) -> None:
    """Telegram updates are answered 200 at once and handled just after."""
    for _ in range(200):
        if await _signed_up(ctx, shift_id) >= expected:
            await asyncio.sleep(0.2)  # a late duplicate would show up here
            return
        await asyncio.sleep(0.05)
