"""vandra's aiohttp transport for python-telegram-bot against the fake Bot API: form and
multipart requests, timeouts and network errors as PTB's own exceptions."""

from __future__ import annotations

import socket
import time

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_send import NO_PREVIEW, markup, send_unread
from fakes.telegram_server import FakeTelegramServer
from scheduling.common.context import Context
from scheduling.messages.content import Option, Outgoing


def _bot(tg: FakeTelegramServer, request: AiohttpRequest) -> Bot:
    return Bot(**tg.bot_kwargs(), request=request, get_updates_request=AiohttpRequest(1))


async def test_messages_with_markup_and_documents_arrive_as_sent() -> None:
    async with FakeTelegramServer() as tg:
        tg.add_user(42, "Anna")
        async with _bot(tg, AiohttpRequest()) as bot:
            button = InlineKeyboardButton("Anmäl mig", callback_data="s:1")
            keyboard = InlineKeyboardMarkup([[button]])
            sent = await bot.send_message(42, "Pass 1 – lör 21:00 ✓", reply_markup=keyboard)
            await bot.send_document(
                42, b"a;b\n\xc3\xa5;1\n", filename="rapporter.csv", caption="Export"
            )
        message = tg.messages_to(42)[0]
        assert message.message_id == sent.message_id
        assert message.text == "Pass 1 – lör 21:00 ✓"
        assert message.callback_data_for("Anmäl") == "s:1"
        document = tg.documents[-1]
        assert (document.filename, document.content, document.caption) == (
            "rapporter.csv",
            b"a;b\n\xc3\xa5;1\n",
            "Export",
        )
        tg.assert_no_violations()


async def test_api_errors_keep_their_meaning() -> None:
    async with FakeTelegramServer() as tg, _bot(tg, AiohttpRequest()) as bot:
        with pytest.raises(BadRequest):
            await bot.send_message(999, "to nobody")


class _Recording(AiohttpRequest):
    """Notes every request's URL, parameters (in order) and timeouts on the way out."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[object, ...]] = []

    async def do_request(self, url, method, request_data=None, **timeouts):  # type: ignore[no-untyped-def]
        parameters = list(request_data.json_parameters.items()) if request_data else []
        self.sent.append((url, method, parameters, sorted(timeouts.items())))
        return await super().do_request(url, method, request_data, **timeouts)


@pytest.mark.parametrize(
    "options",
    [
        (),
        (Option("Anmäl mig", "signup:7"), Option("Nej", "no")),
        (Option('Säg "hej" \\ ' + "x" * 130, "say:1"),),  # escaped, cut at 120 characters
    ],
)
async def test_a_reply_sent_unread_is_the_request_send_message_makes(
    options: tuple[Option, ...],
) -> None:
    reply = Outgoing(text="Pass 7 – lör 21:00 " + "x" * 5000, options=options)
    async with FakeTelegramServer() as tg:
        tg.add_user(42, "Anna")
        request = _Recording()
        async with _bot(tg, request) as bot:
            await bot.send_message(
                42, reply.text[:4096], reply_markup=markup(reply), link_preview_options=NO_PREVIEW
            )
            await send_unread(bot, 42, reply)
            with pytest.raises(BadRequest):  # Telegram's refusals raise as from send_message
                await send_unread(bot, 999, reply)
        first, second, _ = [sent for sent in request.sent if str(sent[0]).endswith("sendMessage")]
        assert first == second
        assert [m.text for m in tg.messages_to(42)] == [reply.text[:4096]] * 2
        tg.assert_no_violations()


async def test_form_fields_go_as_aiohttp_sends_a_dict() -> None:
    """The same body bytes and Content-Type as aiohttp's own encoding of a ``dict``."""
    received: list[tuple[str, bytes]] = []

    async def record(request: web.Request) -> web.Response:
        received.append((request.headers["Content-Type"], await request.read()))
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/botX/sendMessage"
        fields = {"chat_id": 42, "text": "Pass 7/8 – lör 21:00+\nå & ä = 100% ok?", "flag": True}
        data = RequestData([RequestParameter.from_input(k, v) for k, v in fields.items()])
        async with aiohttp.ClientSession() as session:
            await session.post(url, data=data.json_parameters)
        request = AiohttpRequest()
        await request.initialize()
        try:
            await request.do_request(url, "POST", data)
        finally:
            await request.shutdown()
    finally:
        await runner.cleanup()
    assert received[0] == received[1]
    assert received[0][0] == "application/x-www-form-urlencoded"


async def test_a_slow_answer_is_timed_out_within_the_read_timeout() -> None:
    async with FakeTelegramServer() as tg:
        tg.add_user(42, "Anna")
        async with _bot(tg, AiohttpRequest(read_timeout=0.3, write_timeout=0.1)) as bot:
            tg.fail_next("sendMessage", "timeout", delay=5.0)
            started = time.monotonic()
            with pytest.raises(TimedOut):
                await bot.send_message(42, "hej")
            assert time.monotonic() - started < 2.0
            assert (await bot.send_message(42, "igen")).text == "igen"  # the pool recovers


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens
    request = AiohttpRequest()
    bot = Bot("1:x", base_url=f"http://127.0.0.1:{port}/bot", request=request)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(42, "hej")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


async def test_a_request_object_must_be_initialised() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/bot1:x/getMe", "POST")


async def test_vandra_bot_has_no_defaults_that_send_unread_would_skip(ctx: Context) -> None:
    """``send_unread`` posts its parameters as they are: python-telegram-bot's ``Defaults``
    (a default ``parse_mode``, say) would reach ``send_message``'s requests but not these.
    vandra configures none; should that change, this fails first."""
    from bot.channels.telegram import TelegramChannel
    from bot.dialogue.engine import Dialogue
    from tests.test_telegram import telegram_ctx

    async with FakeTelegramServer() as tg:
        bot_ctx = telegram_ctx(ctx, tg)
        channel = TelegramChannel(bot_ctx, Dialogue(bot_ctx))
        assert channel.application.bot.defaults is None
