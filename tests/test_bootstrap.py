"""The one composition root: what ``bot.bootstrap`` builds, and that `vandra run` and `vandra demo`
tick the same steps."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from starlette.routing import Route

from bot.bootstrap import App, bootstrap
from bot.channels.sms_sender import SmsSender
from bot.channels.telegram import TelegramChannel, TelegramSender
from bot.demo.talk import deliver
from bot.demo.world import running
from bot.runtime import serve
from fakes.telegram_server import FakeTelegramServer
from fakes.twilio_server import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_FROM_NUMBER
from models.db import upgrade
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.workers.ticker import TickStep
from tests.conftest import T0, make_settings
from tests.fakes.senders import RecordingSender
from tests.test_run import free_port

SMS = {
    "account_sid": TEST_ACCOUNT_SID,
    "auth_token": TEST_AUTH_TOKEN,
    "from_number": TEST_FROM_NUMBER,
    "api_base_url": "http://127.0.0.1:9",
}
PUBLIC = {"public_url": "https://vandra.example.se"}


def record_steps(app: App, ran: list[str]) -> asyncio.Event:
    """Make each of the app's tick steps write its name into ``ran`` when it runs; the event
    is set once a whole tick has run."""
    whole_tick = asyncio.Event()

    def recorded(name: str, step: TickStep) -> TickStep:
        async def run(ctx: Context) -> object:
            ran.append(name)
            if len(ran) >= len(app.ticker.steps):
                whole_tick.set()
            return await step(ctx)

        return run

    app.ticker.steps[:] = [(name, recorded(name, step)) for name, step in app.ticker.steps]
    return whole_tick


async def steps_vandra_run_ticks(tmp_path: Path) -> list[str]:
    """The steps of the first tick of `vandra run`'s server loop, as they ran."""
    settings = make_settings(f"sqlite:///{tmp_path / 'run.db'}", http={"port": free_port()})
    app = bootstrap(settings, clock=ManualClock(T0))
    await upgrade(app.ctx.store.engine)
    ran: list[str] = []
    whole_tick = record_steps(app, ran)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, stop))
    try:
        await asyncio.wait_for(whole_tick.wait(), timeout=20)
    finally:
        stop.set()
        await serving
        await app.close()
    return ran[: len(app.ticker.steps)]


async def steps_the_demo_ticks(tmp_path: Path) -> list[str]:
    """The steps the demo runs when its story says "time passes" (``deliver``), as they ran."""
    settings = make_settings("sqlite:///unused.db")
    async with running(settings, tmp_path / "demo.db", T0) as demo:
        ran: list[str] = []
        record_steps(demo.app, ran)
        await deliver(demo)
    return ran


async def test_the_demo_ticks_the_same_steps_as_vandra_run(tmp_path: Path) -> None:
    """`vandra demo` and `vandra run` run the same tick steps in the same order, retention
    included: the demo's ticks are not a copy that can drift (a step dropped from either, or
    a demo that calls steps by hand instead of ticking, fails this)."""
    demo = await steps_the_demo_ticks(tmp_path)
    run = await steps_vandra_run_ticks(tmp_path)
    assert demo == run
    assert run == ["expire_offers", "retention", "due", "alarms", "forget_shared_numbers",
                   "followups", "morning_picture", "tallies",
                   "dispatch"]


def paths(app: App) -> set[str]:
    return {route.path for route in app.routes if isinstance(route, Route)}


async def test_bootstrap_without_channels(tmp_path: Path) -> None:
    """With neither [telegram] nor [sms]: no Telegram bot, no senders (messages stay queued),
    health checks the store and the scheduler, the HTTP app serves feeds and the dashboard
    but no webhooks; the store is the configured one, the clock the one given."""
    clock = ManualClock(T0)
    app = bootstrap(make_settings(f"sqlite:///{tmp_path / 'v.db'}"), clock=clock)
    try:
        assert app.telegram is None and dict(app.senders) == {}
        assert app.ctx.clock is clock and app.dispatcher.senders is app.senders
        assert set(await app.health.check()) == {"store", "scheduler"}
        assert "/ical/{token}.ics" in paths(app) and "/dashboard/" in paths(app)
        assert not {p for p in paths(app) if p.startswith(("/sms/", "/telegram/"))}
        assert {"/healthz", "/metrics"} <= {getattr(r, "path", "") for r in app.http.routes}
    finally:
        await app.close()


async def test_bootstrap_with_telegram_webhook_and_sms(tmp_path: Path) -> None:
    """With [telegram] (webhook mode) and [sms]: the Telegram bot and a sender on each channel,
    a health probe for each, and the Telegram and Twilio webhook routes."""
    settings = make_settings(
        f"sqlite:///{tmp_path / 'v.db'}",
        telegram={"token": FakeTelegramServer().token, "mode": "webhook",
                  "webhook_secret": "s3cret-s3cret-s3cret"},
        sms=SMS,
        http=PUBLIC,
    )
    app = bootstrap(settings)
    try:
        assert isinstance(app.telegram, TelegramChannel)
        assert isinstance(app.senders["sms"], SmsSender)
        assert isinstance(app.senders["telegram"], TelegramSender)
        assert set(await app.health.check()) == {"store", "scheduler", "telegram", "sms"}
        assert {"/telegram/webhook", "/sms/inbound", "/sms/status"} <= paths(app)
    finally:
        await app.close()


async def test_bootstrap_polling_telegram_and_given_senders(tmp_path: Path) -> None:
    """Telegram in polling mode has no webhook route; senders passed in are used as they are,
    instead of the configured channels' own."""
    settings = make_settings(
        f"sqlite:///{tmp_path / 'v.db'}",
        telegram={"token": FakeTelegramServer().token},
        sms=SMS,
        http=PUBLIC,
    )
    recording: dict[str, Any] = {"telegram": RecordingSender("telegram")}
    app = bootstrap(settings, senders=recording)
    try:
        assert app.telegram is not None and app.senders is recording
        assert "/telegram/webhook" not in paths(app) and "/sms/inbound" in paths(app)
    finally:
        await app.close()
