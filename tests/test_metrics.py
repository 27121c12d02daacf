"""GET /metrics (Prometheus text) and the health probes of GET /healthz."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import col, update

from bot import metrics
from bot.bootstrap import bootstrap
from bot.http import HealthRegistry, build_app
from models.tables import OutboxMessage, OutboxStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.broadcast import Audience, broadcast
from scheduling.messages.content import TransientSendError
from scheduling.messages.outbox import enqueue
from scheduling.walks import shifts, signups
from scheduling.workers.limits import ChannelLimits
from tests.fakes.senders import RecordingSender
from tests.helpers import OPERATOR, add_people, add_shift, seed_org_area
from tests.world import person

Samples = dict[tuple[str, str], float]
KindSamples = dict[tuple[str, str, str], float]


async def scrape_by_kind(ctx: Context, probes: HealthRegistry | None = None) -> KindSamples:
    """GET /metrics through the real app; samples by (name, channel label, kind label)."""
    app = build_app(ctx, probes or HealthRegistry())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://vandra") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: KindSamples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:  # summed over the other labels (a message's kind)
            key = (sample.name, sample.labels.get("channel", ""), sample.labels.get("kind", ""))
            samples[key] = samples.get(key, 0) + sample.value
    return samples


async def scrape(ctx: Context, probes: HealthRegistry | None = None) -> Samples:
    """GET /metrics through the real app; samples by (name, channel label)."""
    samples: dict[tuple[str, str], float] = {}
    for (name, channel, _kind), value in (await scrape_by_kind(ctx, probes)).items():
        samples[name, channel] = samples.get((name, channel), 0) + value
    return samples


async def test_counters_count_by_channel(ctx: Context) -> None:
    """update_handled / message_sent / failed / retried show up per channel."""
    before = await scrape(ctx)
    metrics.update_handled("telegram")
    metrics.update_handled("telegram")
    metrics.message_sent("sms", "reminder")
    metrics.message_failed("sms", "broadcast")
    metrics.message_retried("telegram", "reminder")
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


async def test_the_dispatcher_counts_what_becomes_of_each_message(
    ctx: Context, clock: ManualClock
) -> None:
    """Messages go through the dispatcher vandra is built with (bot/bootstrap.py); /metrics
    counts them by channel and kind: sent, retried, failed, expired and duplicate-suspected."""
    telegram, sms = RecordingSender("telegram"), RecordingSender("sms")
    fast = {"telegram": ChannelLimits(1000.0, None), "sms": ChannelLimits(1000.0)}
    app = bootstrap(ctx.settings, clock=clock, senders={"telegram": telegram, "sms": sms},
                    store=ctx.store, limits=fast)  # fmt: skip
    by_telegram = [await person(ctx, f"Tg{n}", telegram_id=100 + n) for n in range(3)]
    await person(ctx, "Sms", phone="0703333301")
    nobody = await person(ctx, "Nobody")  # no channel reaches them: failed
    await broadcast(ctx, OPERATOR, "Extra pass i kväll!", Audience())
    now = clock.now()
    async with ctx.store.transaction() as session:
        await enqueue(session, key="too-late", kind="reminder", person_id=nobody.id or 0,
                      due_at=now - timedelta(hours=2), now=now,
                      expires_at=now - timedelta(minutes=1))  # fmt: skip
        await session.exec(  # left claimed by a dispatcher that stopped long ago
            update(OutboxMessage)
            .where(col(OutboxMessage.person_id) == by_telegram[0].id)
            .values(status=OutboxStatus.SENDING, channel="telegram", claimed_by="gone:1:ab",
                    claimed_at=now - timedelta(hours=1))
        )  # fmt: skip
    telegram.fail_next(TransientSendError("flood"))
    before = await scrape_by_kind(ctx)

    await app.dispatcher.dispatch_once()
    clock.advance(timedelta(minutes=1))  # past the retry's back-off
    await app.dispatcher.dispatch_once()

    after = await scrape_by_kind(ctx)
    delta = {
        key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)
    }
    assert delta == {
        ("messages_sent_total", "telegram", "broadcast"): 3,
        ("messages_sent_total", "sms", "broadcast"): 1,
        ("messages_retried_total", "telegram", "broadcast"): 1,
        ("messages_failed_total", "none", "broadcast"): 1,
        ("messages_expired_total", "none", "reminder"): 1,
        ("messages_duplicate_suspected_total", "telegram", "broadcast"): 1,
        **{key: value for key, value in delta.items() if key[0] == "outbox_lag_seconds"},
    }
    assert len(telegram.sent) == 3 and len(sms.sent) == 1


class RecordedElsewhere(RecordingSender):
    """Sends, while another process records the same message as sent (its claim had lapsed)."""

    def __init__(self, ctx: Context) -> None:
        super().__init__("telegram")
        self.ctx = ctx

    async def send(self, recipient: Any, message: Any, valid_until: Any = None) -> Any:
        async with self.ctx.store.transaction() as session:
            await session.exec(update(OutboxMessage).values(status=OutboxStatus.SENT))
        return await super().send(recipient, message, valid_until)


async def test_a_send_another_process_recorded_first_is_a_suspected_duplicate(
    ctx: Context, clock: ManualClock
) -> None:
    """The outcome of a send finds the message recorded as sent already: counted as sent and
    as a suspected duplicate."""
    telegram = RecordedElsewhere(ctx)
    app = bootstrap(ctx.settings, clock=clock, senders={"telegram": telegram}, store=ctx.store,
                    limits={"telegram": ChannelLimits(1000.0, None)})  # fmt: skip
    await person(ctx, "Tg", telegram_id=100)
    await broadcast(ctx, OPERATOR, "Extra pass i kväll!", Audience())
    before = await scrape_by_kind(ctx)
    await app.dispatcher.dispatch_once()
    after = await scrape_by_kind(ctx)
    for name in ("messages_sent_total", "messages_duplicate_suspected_total"):
        key = (name, "telegram", "broadcast")
        assert after[key] - before[key] == 1, name
