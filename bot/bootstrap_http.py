"""What the one HTTP server carries: the health probes and the routes of what is configured."""

from __future__ import annotations

from starlette.routing import BaseRoute

from bot.channels.sms_webhook import sms_routes
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_webhook import webhook_routes
from bot.dashboard import dashboard_routes
from bot.dialogue.engine import Dialogue
from bot.http import HealthRegistry, store_alive
from bot.ical import ical_routes
from bot.privacy_page import privacy_routes
from scheduling.common.context import Context
from scheduling.workers.ticker import Ticker


def health_probes(ctx: Context, ticker: Ticker, telegram: TelegramChannel | None) -> HealthRegistry:
    """The store and the scheduler; Telegram while its bot runs, SMS when configured."""

    async def store_ok() -> bool:
        return await store_alive(ctx)

    async def scheduler_alive() -> bool:
        return ticker.running

    health = HealthRegistry({"store": store_ok, "scheduler": scheduler_alive})
    if telegram is not None:
        channel = telegram

        async def telegram_alive() -> bool:
            return channel.running

        health.register("telegram", telegram_alive)
    if ctx.settings.sms.configured:

        async def sms_configured() -> bool:
            return True

        health.register("sms", sms_configured)
    return health


def http_routes(
    ctx: Context, dialogue: Dialogue, telegram: TelegramChannel | None
) -> list[BaseRoute]:
    """Calendar feeds, the dashboard and the privacy notice; the Telegram webhook in webhook
    mode; the SMS webhooks when [sms] is configured."""
    routes: list[BaseRoute] = [
        *ical_routes(ctx), *dashboard_routes(ctx), *privacy_routes(ctx.settings)
    ]
    if telegram is not None and ctx.settings.telegram.mode == "webhook":
        routes += webhook_routes(ctx, telegram)
    if ctx.settings.sms.configured:
        routes += sms_routes(ctx, dialogue)
    return routes
