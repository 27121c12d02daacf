"""The one composition root: what `vandra run`, `vandra demo`, `vandra chat`, the benchmarks
and the end-to-end tests run is put together here, once.

``bootstrap(settings)`` builds the context, the dialogue, the Telegram channel (when
``[telegram]`` is configured), the senders, the dispatcher, the ticker with the one list of
tick steps (``bot.bootstrap_ticks``), the health probes and the HTTP routes
(``bot.bootstrap_http``). It starts nothing: the caller starts what it runs
(``bot.runtime.serve`` all of it, the demo its bot and its own ticks) and closes the App.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot import metrics
from bot.bootstrap_http import health_probes, http_routes
from bot.bootstrap_ticks import make_ticker
from bot.channels.telegram import TelegramChannel, TelegramSender
from bot.dialogue.engine import Dialogue
from bot.http import HealthRegistry, build_app
from bot.notifications import NotificationRenderer
from models.db import Store
from scheduling.common.clock import Clock, SystemClock
from scheduling.common.config import Settings
from scheduling.common.context import Context
from scheduling.messages.content import Sender
from scheduling.workers.dispatcher import Dispatcher
from scheduling.workers.limits import ChannelLimits
from scheduling.workers.ticker import Ticker


@dataclass
class App:
    """Everything vandra runs, built and wired, nothing started."""

    ctx: Context
    dialogue: Dialogue
    telegram: TelegramChannel | None
    senders: Mapping[str, Sender]
    dispatcher: Dispatcher
    ticker: Ticker
    health: HealthRegistry
    routes: list[BaseRoute]
    http: Starlette

    async def close(self) -> None:
        """Close the senders' clients and the store."""
        await close_senders(self.senders)
        await self.ctx.store.close()


async def close_senders(senders: Mapping[str, Sender]) -> None:
    """Close the senders' clients (safe twice; one that fails does not stop the others)."""
    for sender in senders.values():
        close = getattr(sender, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


def make_senders(ctx: Context, telegram: TelegramChannel | None = None) -> dict[str, Sender]:
    """A sender for each configured channel: SMS when [sms] is set, Telegram when its channel
    runs. With none, messages stay queued."""
    senders: dict[str, Sender] = {}
    if ctx.settings.sms.configured:
        from bot.channels.sms_sender import SmsSender
        from bot.channels.twilio_client import TwilioSender

        client = TwilioSender.from_settings(ctx.settings.sms, ctx.settings.http.public_url)
        senders["sms"] = SmsSender(client, clock=ctx.clock.now)
    if telegram is not None:
        senders["telegram"] = TelegramSender(telegram.application)
    return senders


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    senders: Mapping[str, Sender] | None = None,
    store: Store | None = None,
    limits: Mapping[str, ChannelLimits] | None = None,
) -> App:
    """Build vandra from its settings. ``store``: one opened (and checked) already, else the
    configured one is opened; ``senders``: these instead of the configured channels' own;
    ``limits``: sending rates instead of the configured ones."""
    store = store if store is not None else Store.open(settings.database.url)
    ctx = Context(store=store, settings=settings, clock=clock or SystemClock())
    dialogue = Dialogue(ctx)
    telegram = TelegramChannel(ctx, dialogue) if settings.telegram.configured else None
    if senders is None:
        senders = make_senders(ctx, telegram)
    renderer = NotificationRenderer()
    dispatcher = Dispatcher(ctx, senders, renderer, limits=limits, observer=metrics.DELIVERY)
    ticker = make_ticker(ctx, dispatcher)
    health = health_probes(ctx, ticker, telegram)
    routes = http_routes(ctx, dialogue, telegram)
    http = build_app(ctx, health, routes)
    return App(ctx, dialogue, telegram, senders, dispatcher, ticker, health, routes, http)
