"""How `vandra run` is put together: the ticker's steps and the configured channels."""

from __future__ import annotations

import asyncio
import gc
from typing import cast

import pytest

from bot import runtime
from bot.bootstrap import App, bootstrap
from bot.bootstrap_ticks import make_ticker
from bot.channels.sms_sender import SmsSender
from bot.notifications import NotificationRenderer
from bot.runtime import GC_YOUNG_THRESHOLD, server_collector, stop_dispatching
from fakes.twilio_server import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_FROM_NUMBER
from scheduling.common.context import Context
from scheduling.workers.dispatcher import Dispatcher
from tests.conftest import make_settings


async def test_no_channel_configured_means_no_sender() -> None:
    """Without [sms] and [telegram] there is nothing to send with."""
    app = bootstrap(make_settings("sqlite:///x.db"))
    assert app.senders == {}
    await app.close()


async def test_sms_configured_gives_an_sms_sender() -> None:
    """[sms] with credentials and a sender number: an SMS Sender over the Twilio client."""
    settings = make_settings(
        "sqlite:///x.db",
        sms={
            "account_sid": TEST_ACCOUNT_SID,
            "auth_token": TEST_AUTH_TOKEN,
            "from_number": TEST_FROM_NUMBER,
            "api_base_url": "http://127.0.0.1:9",
        },
        http={"public_url": "https://vandra.example.se"},
    )
    app = bootstrap(settings)
    senders = app.senders
    assert set(senders) == {"sms"} and isinstance(senders["sms"], SmsSender)
    await app.close()


async def test_the_ticker_passes_offers_on_computes_what_is_due_and_wakes_the_dispatcher(
    ctx: Context,
) -> None:
    """The steps in order; a tick runs them all and stopping gives back nothing unsent."""
    dispatcher = Dispatcher(ctx, {}, NotificationRenderer())
    ticker = make_ticker(ctx, dispatcher)
    steps = ["expire_offers", "retention", "due", "alarms", "forget_shared_numbers",
             "followups", "morning_picture", "tallies", "dispatch"]
    assert [name for name, _ in ticker.steps] == steps
    results = await ticker.tick()
    assert ticker.last_tick_ok and set(results) == set(steps)
    task = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(0)
    await stop_dispatching(dispatcher, task, {})
    assert task.done()


class _StartupObject:
    """Stands for something made before the server starts (a mapper, a cached statement)."""


def _tracked_ids() -> set[int]:
    return {id(o) for o in gc.get_objects()}


def test_server_collector_freezes_what_exists_and_restores_the_defaults() -> None:
    """While serving, objects from start-up are out of the collector's sight (a full
    collection does not walk them) and the young generation is collected less often; after
    the block both are as they were, also when the block fails."""
    before = gc.get_threshold()
    startup = _StartupObject()
    assert id(startup) in _tracked_ids()
    try:
        with server_collector():
            assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
            assert gc.get_freeze_count() > 0
            assert id(startup) not in _tracked_ids()
            made_while_serving = _StartupObject()
            assert id(made_while_serving) in _tracked_ids()
            raise RuntimeError("the server failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert id(startup) in _tracked_ids()


async def test_serve_runs_under_the_server_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    """`vandra run` serves with the collector set up for a long-running server."""
    seen: list[tuple[int, int]] = []

    async def fake_serve(*_args: object) -> None:
        seen.append((gc.get_threshold()[0], gc.get_freeze_count()))

    monkeypatch.setattr(runtime, "_serve", fake_serve)
    await runtime.serve(cast(App, None), asyncio.Event())
    assert seen and seen[0][0] == GC_YOUNG_THRESHOLD and seen[0][1] > 0
    assert gc.get_freeze_count() == 0
