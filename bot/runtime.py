"""``vandra run``: wires the store, the ticker, the channels and the HTTP server, and stops
them cleanly on SIGTERM or SIGINT (within 10 s, exit 0; unsent messages stay queued)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator, Mapping

import uvicorn
from starlette.routing import BaseRoute

from bot.channels.sms_webhook import sms_routes
from bot.channels.telegram import TelegramChannel, TelegramSender
from bot.channels.telegram_webhook import webhook_routes
from bot.cli.errors import BadInput
from bot.dashboard import dashboard_routes
from bot.dialogue.engine import Dialogue
from bot.http import HealthRegistry, build_app, store_alive
from bot.ical import ical_routes
from bot.notifications import NotificationRenderer
from scheduling.common.config import Settings
from scheduling.common.context import Context
from scheduling.messages.content import Sender
from scheduling.messages.due import compute_due
from scheduling.people.privacy import retention_step
from scheduling.walks.signups import expire_offers
from scheduling.workers.dispatcher import Dispatcher
from scheduling.workers.ticker import Ticker

log = logging.getLogger("vandra.run")
STOP_TIMEOUT_S = 10.0
DISPATCH_STOP_S = 5.0  # in-flight sends finish within this; the rest stays queued
# Container objects allocated (net) before the collector looks at the young ones; Python's
# default is 700. An update leaves a hundred or so behind for a while (Bot API objects, ORM
# rows), so at 700 the young generation was collected every eight updates or so
# (bench/README.md, `updates.py`).
GC_YOUNG_THRESHOLD = 10_000


@contextlib.contextmanager
def server_collector() -> Iterator[None]:
    """Python's cyclic garbage collector set up for a long-running server, while the block runs.

    What exists at start-up (modules, classes, the ORM's mappers and statement caches, the
    Bot API's types) lives as long as the process: it is moved out of the collector's sight
    (``gc.freeze``), so a full collection no longer walks it (in the update benchmark each took
    about 0.1 s, a pause every input in flight waited through). The young generation is
    collected after ``GC_YOUNG_THRESHOLD`` objects instead of 700. Both are restored after
    the block (tests and the benchmark run more than one thing in a process).
    """
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def check_startup(settings: Settings) -> None:
    """Refuse settings that cannot work, before anything starts."""
    needs_public_url = settings.sms.configured or (
        settings.telegram.configured and settings.telegram.mode == "webhook"
    )
    if needs_public_url and not settings.http.public_url:
        raise BadInput(
            "config error: [http] public_url: required when Telegram runs in webhook "
            "mode or SMS is configured (the https address Telegram and Twilio call)"
        )
    if settings.telegram.mode == "webhook" and not settings.telegram.configured:
        raise BadInput('config error: [telegram] token: required when [telegram] mode = "webhook"')
    if settings.telegram.mode == "webhook" and settings.telegram.webhook_secret is None:
        raise BadInput("config error: [telegram] webhook_secret: required in webhook mode "
                       "(Telegram sends it with every update; others are refused)")
    if settings.http.public_url and settings.http.public_url.startswith("http://"):
        log.warning("[http] public_url is http://, not https://: fine for local testing only")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: vandra stops all parts together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_senders(settings: Settings) -> dict[str, Sender]:
    """The senders that need no running channel: SMS when [sms] is set. (``serve`` adds the
    Telegram sender, which uses the running bot.) With none, messages stay queued."""
    senders: dict[str, Sender] = {}
    if settings.sms.configured:
        from bot.channels.sms_sender import SmsSender
        from bot.channels.twilio_client import TwilioSender

        client = TwilioSender.from_settings(settings.sms, settings.http.public_url)
        senders["sms"] = SmsSender(client)
    return senders


def make_ticker(ctx: Context, dispatcher: Dispatcher | None = None) -> Ticker:
    """Every tick: pass on unconfirmed offers, queue what is due, wake the dispatcher."""
    ticker = Ticker(ctx)
    ticker.add_step("expire_offers", expire_offers)
    ticker.add_step("retention", retention_step)  # works once a day, however often it ticks
    ticker.add_step("due", compute_due)
    if dispatcher is not None:

        async def wake_dispatcher(_ctx: Context) -> None:
            dispatcher.wake()

        ticker.add_step("dispatch", wake_dispatcher)
    return ticker


async def stop_dispatching(
    dispatcher: Dispatcher, task: asyncio.Task[None], senders: Mapping[str, Sender]
) -> None:
    """Let in-flight sends finish, give back unsent claims, close the channels' clients."""
    dispatcher.stop()
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=DISPATCH_STOP_S)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    except Exception:
        log.exception("dispatcher stopped with an error")
    with contextlib.suppress(Exception):
        await dispatcher.release_all()
    for sender in senders.values():
        close = getattr(sender, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


async def serve(
    ctx: Context, stop: asyncio.Event | None = None, senders: Mapping[str, Sender] | None = None
) -> None:
    """Run everything until ``stop`` is set or a stop signal arrives."""
    with server_collector():
        await _serve(ctx, stop, senders)


async def _serve(
    ctx: Context, stop: asyncio.Event | None, senders: Mapping[str, Sender] | None
) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    dialogue = Dialogue(ctx)
    telegram = TelegramChannel(ctx, dialogue) if ctx.settings.telegram.configured else None
    if senders is None:
        senders = make_senders(ctx.settings)
        if telegram is not None:
            senders = {**senders, "telegram": TelegramSender(telegram.application)}
    dispatcher = Dispatcher(ctx, senders, NotificationRenderer())
    ticker = make_ticker(ctx, dispatcher)

    async def scheduler_alive() -> bool:
        return ticker.running

    async def store_ok() -> bool:
        return await store_alive(ctx)

    health = HealthRegistry({"store": store_ok, "scheduler": scheduler_alive})
    routes: list[BaseRoute] = [*ical_routes(ctx), *dashboard_routes(ctx)]
    if telegram is not None:
        channel = telegram

        async def telegram_alive() -> bool:
            return channel.running

        health.register("telegram", telegram_alive)
        if ctx.settings.telegram.mode == "webhook":
            routes += webhook_routes(ctx, telegram)
    if ctx.settings.sms.configured:
        routes += sms_routes(ctx, dialogue)

        async def sms_configured() -> bool:
            return True

        health.register("sms", sms_configured)
    app = build_app(ctx, health, routes)
    http = ctx.settings.http
    server = _Server(
        uvicorn.Config(
            app,
            host=http.host,
            port=http.port,
            log_level="warning",
            log_config=None,  # uvicorn logs through ours: one format, secrets redacted
            lifespan="off",
            access_log=False,
        )
    )
    server_task = asyncio.create_task(server.serve(), name="http")
    ticker.start()
    starting = asyncio.create_task(_start_channel(telegram, stop)) if telegram else None
    dispatch_task = asyncio.create_task(dispatcher.run(), name="dispatch")
    log.info("vandra running on http://%s:%s", http.host, http.port)
    stop_task = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({server_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    log.info("stopping")
    if starting is not None:
        starting.cancel()
    ticker.stop()
    server.should_exit = True
    dispatch_stopped = asyncio.create_task(stop_dispatching(dispatcher, dispatch_task, senders))
    try:
        await asyncio.wait_for(server_task, timeout=STOP_TIMEOUT_S - 2)
    except TimeoutError:
        server.force_exit = True
        server_task.cancel()
    await dispatch_stopped
    if telegram is not None:
        await telegram.stop()  # after the dispatcher: its Telegram sender uses this bot
    stop_task.cancel()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signum)
    if server_task in done and server_task.exception() is not None:
        raise RuntimeError(f"HTTP server failed: {server_task.exception()}")
    if not server.started and server_task in done:
        raise RuntimeError(f"HTTP server could not start on {http.host}:{http.port}")


async def _start_channel(channel: TelegramChannel, stop: asyncio.Event) -> None:
    """Start Telegram, retrying with backoff while its API cannot be reached."""
    delay = 1.0
    while not stop.is_set():
        try:
            await channel.start()
            log.info("telegram channel running (%s mode)", channel.ctx.settings.telegram.mode)
            return
        except Exception as error:  # network down, bad token, ...: keep trying, say why
            log.warning("telegram start failed (%s); retrying in %.0f s",
                        type(error).__name__, delay)
            await channel.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 60)
