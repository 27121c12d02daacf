"""How `vandra run` is put together: the ticker's steps and the configured channels."""

from __future__ import annotations

import asyncio

from bot.channels.sms_sender import SmsSender
from bot.notifications import NotificationRenderer
from bot.runtime import make_senders, make_ticker, stop_dispatching
from scheduling.context import Context
from scheduling.dispatch import Dispatcher
from tests.conftest import make_settings
from tests.fakes.twilio_server import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_FROM_NUMBER


def test_no_channel_configured_means_no_sender() -> None:
    """Without [sms] (and until Telegram plugs in) there is nothing to send with."""
    assert make_senders(make_settings("sqlite:///x.db")) == {}


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
    senders = make_senders(settings)
    assert set(senders) == {"sms"} and isinstance(senders["sms"], SmsSender)
    await senders["sms"].close()  # type: ignore[attr-defined]


async def test_the_ticker_passes_offers_on_computes_what_is_due_and_wakes_the_dispatcher(
    ctx: Context,
) -> None:
    """The steps in order; a tick runs them all and stopping gives back nothing unsent."""
    dispatcher = Dispatcher(ctx, {}, NotificationRenderer())
    ticker = make_ticker(ctx, dispatcher)
    steps = ["expire_offers", "retention", "due", "dispatch"]
    assert [name for name, _ in ticker.steps] == steps
    results = await ticker.tick()
    assert ticker.last_tick_ok and set(results) == set(steps)
    task = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(0)
    await stop_dispatching(dispatcher, task, {})
    assert task.done()
