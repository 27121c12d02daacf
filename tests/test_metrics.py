"""GET /metrics (Prometheus text) and the health probes of GET /healthz."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import col, update

from bot import metrics
from bot.http import HealthRegistry, build_app
from models.tables import OutboxMessage, OutboxStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.outbox import enqueue
from scheduling.walks import shifts, signups
from tests.helpers import OPERATOR, add_people, add_shift, seed_org_area

Samples = dict[tuple[str, str], float]


async def scrape(ctx: Context, probes: HealthRegistry | None = None) -> Samples:
    """GET /metrics through the real app; samples by (name, channel label)."""
    app = build_app(ctx, probes or HealthRegistry())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vandra") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, sample.labels.get("channel", "")): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_counters_count_by_channel(ctx: Context) -> None:
    """update_handled / message_sent / failed / retried show up per channel."""
    before = await scrape(ctx)
    metrics.update_handled("telegram")
    metrics.update_handled("telegram")
    metrics.message_sent("sms")
    metrics.message_failed("sms")
    metrics.message_retried("telegram")
    after = await scrape(ctx)
    delta = {key: after[key] - before.get(key, 0) for key in after}
    assert delta[("updates_handled_total", "telegram")] == 2
    assert delta[("messages_sent_total", "sms")] == 1
    assert delta[("messages_failed_total", "sms")] == 1
    assert delta[("messages_retried_total", "telegram")] == 1
    assert delta[("messages_sent_total", "telegram")] == 0


async def test_gauges_come_from_the_store(ctx: Context, clock: ManualClock) -> None:
    """Outbox lag is the oldest due pending message's age; understaffed counts the next 48 h."""
    org, area = await seed_org_area(ctx)
    trained = await add_people(ctx, 3, org=org, trained=True)
    short = await add_shift(ctx, org, area, start_in=timedelta(hours=20), min_walkers=3)
    fine = await add_shift(ctx, org, area, start_in=timedelta(hours=30), min_walkers=1)
    await add_shift(ctx, org, area, start_in=timedelta(hours=50), min_walkers=3)  # beyond 48 h
    dropped = await add_shift(ctx, org, area, start_in=timedelta(hours=40), min_walkers=3)
    await shifts.cancel_shift(ctx, OPERATOR, dropped.id or 0)
    await signups.sign_up(ctx, trained[0].id or 0, short.id or 0)
    await signups.sign_up(ctx, trained[1].id or 0, fine.id or 0)
    await clear_outbox(ctx)
    now = clock.now()
    async with ctx.store.transaction() as session:
        for key, due in (
            ("late", now - timedelta(seconds=90)),
            ("later", now + timedelta(hours=1)),
        ):
            await enqueue(session, key=key, kind="test", person_id=trained[2].id or 0,
                          due_at=due, now=now)  # fmt: skip

    samples = await scrape(ctx)

    assert samples[("understaffed_shifts_next_48h", "")] == 1
    assert samples[("outbox_lag_seconds", "")] == 90
    async with ctx.store.transaction() as session:
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.dedupe_key) == "late")
            .values(next_attempt_at=now + timedelta(seconds=30))  # backing off: not due yet
        )
    assert (await scrape(ctx))[("outbox_lag_seconds", "")] == 0


async def clear_outbox(ctx: Context) -> None:
    async with ctx.store.transaction() as session:
        await session.exec(update(OutboxMessage).values(status=OutboxStatus.SENT))


async def test_health_names_every_probe_and_fails_on_a_slow_or_broken_one(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A channel registers its probe; a probe that raises or hangs makes /healthz answer 503."""
    monkeypatch.setattr("bot.http.PROBE_TIMEOUT_S", 0.1)

    async def ok() -> bool:
        return True

    async def broken() -> bool:
        raise RuntimeError("no")

    async def hanging() -> bool:
        await asyncio.sleep(60)
        return True

    health = HealthRegistry({"store": ok})
    app = build_app(ctx, health)
    health.register("telegram", ok)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vandra") as client:
        first = await client.get("/healthz")
        health.register("sms", broken)
        health.register("scheduler", hanging)
        second = await client.get("/healthz")
    assert first.status_code == 200 and first.json()["checks"] == {"store": "ok", "telegram": "ok"}
    assert second.status_code == 503
    assert second.json()["checks"] == {
        "store": "ok", "telegram": "ok", "sms": "down", "scheduler": "down"
    }  # fmt: skip
