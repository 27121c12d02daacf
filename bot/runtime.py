"""``vandra run``: runs what ``bot.bootstrap`` built (the ticker, the channels, the dispatcher,
the HTTP server) and stops them cleanly on SIGTERM or SIGINT (within 10 s, exit 0; unsent
messages stay queued)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Iterator, Mapping

import uvicorn

from bot.bootstrap import App, close_senders
from bot.channels.telegram import TelegramChannel
from bot.cli.errors import BadInput
from evaluation.off_loop import start_workers, stop_workers
from scheduling.common.config import Settings
from scheduling.messages.content import Sender
from scheduling.workers.dispatcher import Dispatcher

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
    await close_senders(senders)


async def serve(app: App, stop: asyncio.Event | None = None) -> None:
    """Run everything ``bootstrap`` built until ``stop`` is set or a stop signal arrives."""
    with server_collector():
        await _serve(app, stop or asyncio.Event())


async def _serve(app: App, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    _handle_signals(loop, stop.set)
    http = app.ctx.settings.http
    server = _http_server(app)
    server_task = asyncio.create_task(server.serve(), name="http")
    app.ticker.start()
    start_workers(app.ctx)  # statistics and exports: evaluation/off_loop.py
    starting = asyncio.create_task(_start_channel(app.telegram, stop)) if app.telegram else None
    dispatch_task = asyncio.create_task(app.dispatcher.run(), name="dispatch")
    log.info("vandra running on http://%s:%s", http.host, http.port)
    stop_task = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({server_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    log.info("stopping")
    if starting is not None:
        starting.cancel()
    await _stop_all(app, server, server_task, dispatch_task)
    stop_task.cancel()
    _handle_signals(loop, None)
    if server_task in done and server_task.exception() is not None:
        raise RuntimeError(f"HTTP server failed: {server_task.exception()}")
    if not server.started and server_task in done:
        raise RuntimeError(f"HTTP server could not start on {http.host}:{http.port}")


def _handle_signals(loop: asyncio.AbstractEventLoop, handler: Callable[[], None] | None) -> None:
    """SIGTERM and SIGINT call ``handler``; with None, they are given back."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            if handler is None:
                loop.remove_signal_handler(signum)
            else:
                loop.add_signal_handler(signum, handler)


def _http_server(app: App) -> _Server:
    http = app.ctx.settings.http
    config = uvicorn.Config(
        app.http,
        host=http.host,
        port=http.port,
        log_level="warning",
        log_config=None,  # uvicorn logs through ours: one format, secrets redacted
        lifespan="off",
        access_log=False,
    )
    return _Server(config)


async def _stop_all(
    app: App, server: _Server, server_task: asyncio.Task[None], dispatch_task: asyncio.Task[None]
) -> None:
    """Stop ticking and serving; let the dispatcher finish; then stop the Telegram bot."""
    app.ticker.stop()
    server.should_exit = True
    dispatch_stopped = asyncio.create_task(
        stop_dispatching(app.dispatcher, dispatch_task, app.senders)
    )
    try:
        await asyncio.wait_for(server_task, timeout=STOP_TIMEOUT_S - 2)
    except TimeoutError:
        server.force_exit = True
        server_task.cancel()
    await dispatch_stopped
    await asyncio.to_thread(stop_workers)
    if app.telegram is not None:
        await app.telegram.stop()  # after the dispatcher: its Telegram sender uses this bot


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
