"""The fake Telegram Bot API server answers the real python-telegram-bot like Telegram does."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import telegram
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Update,
)
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.warnings import PTBUserWarning

from fakes.telegram_server import (
    FakeTelegramServer,
    WebhookDelivery,
    serve_asgi,
)

ANNA = 4242
BENGT = 5151


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    """Build a one-row inline keyboard of (label, callback data) pairs."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in pairs]])


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta periods: reading ``RetryAfter.retry_after`` warns otherwise."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegramServer]:
    """Serve a fake Telegram with two known users."""
    async with FakeTelegramServer() as server:
        server.add_user(ANNA, "Anna")
        server.add_user(BENGT, "Bengt", language_code="en", username="bengt")
        yield server


@pytest.fixture
async def bot(tg: FakeTelegramServer) -> AsyncIterator[telegram.Bot]:
    """Give an initialised python-telegram-bot Bot pointed at the fake."""
    async with telegram.Bot(**tg.bot_kwargs()) as real_bot:
        yield real_bot


async def raw_call(tg: FakeTelegramServer, method: str, **kwargs: Any) -> httpx.Response:
    """POST straight to the fake, bypassing python-telegram-bot's own checks."""
    async with httpx.AsyncClient() as client:
        return await client.post(f"{tg.bot_base_url}{tg.token}/{method}", **kwargs)


async def test_get_me_returns_the_configured_bot(tg: FakeTelegramServer) -> None:
    """getMe answers a bot user named as configured, with the id taken from the token."""
    async with telegram.Bot(**tg.bot_kwargs()) as real_bot:
        me = await real_bot.get_me()
    assert (me.username, me.id, me.is_bot) == ("vandra_test_bot", tg.bot_id, True)
    assert tg.calls("getMe")
    tg.assert_no_violations()


async def test_send_message_echoes_and_records_the_inline_keyboard(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """sendMessage returns a Message with per-chat ids and the keyboard, and records it."""
    first = await bot.send_message(ANNA, "Vill du gå?", reply_markup=keyboard(("Ja", "join:7")))
    second = await bot.send_message(ANNA, "<b>Pass</b> 7", parse_mode="HTML")
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.reply_markup == keyboard(("Ja", "join:7"))
    sent = tg.messages_to(ANNA)
    assert [m.text for m in sent] == ["Vill du gå?", "Pass 7"]
    assert sent[0].callback_data_for("ja") == "join:7"
    assert tg.last_message(ANNA) is sent[1]
    assert tg.delivered[ANNA] == 2
    tg.assert_no_violations()


async def test_edit_with_identical_content_raises_bad_request(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """Editing text and markup to what they already are is 'message is not modified'."""
    message = await bot.send_message(ANNA, "Pass 7", reply_markup=keyboard(("Ja", "j")))
    await bot.edit_message_text("Pass 7 (fullt)", ANNA, message.message_id)
    assert tg.last_message(ANNA).text == "Pass 7 (fullt)"  # type: ignore[union-attr]
    assert tg.last_message(ANNA).reply_markup is None  # type: ignore[union-attr]
    with pytest.raises(telegram.error.BadRequest, match="not modified"):
        await bot.edit_message_text("Pass 7 (fullt)", ANNA, message.message_id)
    with pytest.raises(telegram.error.BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(ANNA, message.message_id)
    with pytest.raises(telegram.error.BadRequest, match=r"[Mm]essage to edit not found"):
        await bot.edit_message_text("x", ANNA, 999)
    assert tg.violations == []
    assert len(tg.errors) == 3


async def test_blocked_user_raises_forbidden_until_unblocked(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """After block_bot sends answer 403 and a my_chat_member update is queued."""
    tg.block_bot(ANNA)
    with pytest.raises(telegram.error.Forbidden, match="blocked by the user"):
        await bot.send_message(ANNA, "Påminnelse")
    updates = await bot.get_updates(timeout=0)
    assert updates[0].my_chat_member.new_chat_member.status == "kicked"  # type: ignore[union-attr]
    tg.unblock_bot(ANNA)
    await bot.send_message(ANNA, "Välkommen tillbaka")
    assert tg.delivered[ANNA] == 1
    tg.assert_no_violations()


async def test_rate_limit_answers_retry_after() -> None:
    """Beyond rate_limit_per_s, sends get 429 with retry_after (RetryAfter in PTB)."""
    async with FakeTelegramServer(rate_limit_per_s=1) as tg:
        tg.add_user(ANNA, "Anna")
        async with telegram.Bot(**tg.bot_kwargs()) as limited:
            await limited.send_message(ANNA, "ett")
            with pytest.raises(telegram.error.RetryAfter) as caught:
                await limited.send_message(ANNA, "två")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert (tg.rate_limited, tg.delivered[ANNA], tg.violations) == (1, 1, [])


async def test_per_chat_limit_allows_one_message_per_second_per_chat() -> None:
    """With per_chat_limit, a second send to the same chat within a second gets 429."""
    async with FakeTelegramServer(per_chat_limit=True) as tg:
        tg.add_user(ANNA, "Anna")
        tg.add_user(BENGT, "Bengt")
        async with telegram.Bot(**tg.bot_kwargs()) as limited:
            await limited.send_message(ANNA, "ett")
            await limited.send_message(BENGT, "ett")
            with pytest.raises(telegram.error.RetryAfter):
                await limited.send_message(ANNA, "två")
    assert tg.delivered == {ANNA: 1, BENGT: 1}


async def test_latency_delays_each_answer_without_serialising_them() -> None:
    """latency_s holds every answer that long; concurrent requests wait side by side."""
    async with FakeTelegramServer(latency_s=0.3) as tg:
        tg.add_user(ANNA, "Anna")
        async with telegram.Bot(**tg.bot_kwargs()) as slow:
            started = time.monotonic()
            await asyncio.gather(*(slow.send_message(ANNA, f"nr {n}") for n in range(5)))
            elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 1.2
    assert tg.delivered[ANNA] == 5


async def test_fail_next_injects_429_and_500(tg: FakeTelegramServer, bot: telegram.Bot) -> None:
    """fail_next makes the next calls fail with the given status, then recovers."""
    tg.fail_next("sendMessage", 429, retry_after=3)
    tg.fail_next("sendMessage", 500)
    with pytest.raises(telegram.error.RetryAfter) as caught:
        await bot.send_message(ANNA, "ett")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    with pytest.raises(telegram.error.NetworkError, match="Internal Server Error"):
        await bot.send_message(ANNA, "ett")
    await bot.send_message(ANNA, "ett")
    assert tg.delivered[ANNA] == 1


async def test_timeout_fault_delivers_but_the_client_times_out(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """A "timeout" fault sends the message but holds the answer past the client's timeout."""
    tg.fail_next("sendMessage", "timeout", delay=5)
    with pytest.raises(telegram.error.TimedOut):
        await bot.send_message(ANNA, "ett", read_timeout=0.2)
    assert tg.delivered[ANNA] == 1


async def test_unknown_field_is_rejected_and_recorded(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """A parameter the method does not have is a 400 and a recorded violation."""
    kwargs = {"chat_id": ANNA, "text": "hej", "colour": "red"}
    with (
        pytest.warns(PTBUserWarning, match="Please use 'Bot.sendMessage'"),
        pytest.raises(telegram.error.BadRequest, match=r'(?i)unknown parameter "colour"'),
    ):
        await bot.do_api_request("sendMessage", api_kwargs=kwargs)
    stray_file = {"attachment": ("a.txt", b"x")}
    response = await raw_call(
        tg, "sendMessage", data={"chat_id": ANNA, "text": "hej"}, files=stray_file
    )
    assert response.status_code == 400
    assert tg.violations == [
        'sendMessage: 400 Bad Request: unknown parameter "colour" for method sendMessage',
        'sendMessage: 400 Bad Request: unknown parameter "attachment" for method sendMessage',
    ]
    assert tg.delivered[ANNA] == 0


async def test_unknown_method_is_404_and_recorded(tg: FakeTelegramServer) -> None:
    """An unknown method answers Telegram's 404 body and is recorded."""
    response = await raw_call(tg, "sendTelepathy", json={"chat_id": ANNA})
    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert tg.violations == ["sendTelepathy: 404 Not Found: method not found"]


async def test_callback_data_over_64_bytes_is_rejected(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """callback_data longer than 64 bytes (UTF-8) is BUTTON_DATA_INVALID."""
    too_long = "å" * 33  # 66 bytes
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ANNA, "Välj", reply_markup=keyboard(("Ja", too_long)))
    assert len(tg.violations) == 1
    assert "inline_keyboard[0][0].callback_data is 66 bytes" in tg.violations[0]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"text": "hej"}, "chat_id is empty"),
        ({"chat_id": ANNA, "text": "   "}, "message text is empty"),
        ({"chat_id": ANNA, "text": "x" * 4097}, "message is too long"),
        ({"chat_id": ANNA, "text": "hej", "reply_markup": "[oops"}, "can't parse reply_markup"),
        ({"chat_id": ANNA, "text": "hej", "disable_notification": "maybe"}, "must be Boolean"),
        ({"chat_id": ANNA, "text": "<i>hej", "parse_mode": "HTML"}, "can't find end tag"),
        ({"chat_id": ANNA, "text": "a < b", "parse_mode": "HTML"}, 'unescaped "<"'),
    ],
)
async def test_malformed_send_message_is_a_violation(
    tg: FakeTelegramServer, body: dict[str, Any], problem: str
) -> None:
    """Missing fields, bad types, bad JSON, bad HTML and length limits are 400 violations."""
    response = await raw_call(tg, "sendMessage", data=body)
    assert response.status_code == 400
    assert problem in response.json()["description"]
    assert len(tg.violations) == 1


@pytest.mark.parametrize("encoding", ["json", "form", "multipart"])
async def test_every_body_encoding_is_decoded_by_the_spec(
    tg: FakeTelegramServer, encoding: str
) -> None:
    """JSON, urlencoded and multipart bodies decode to the same typed parameters."""
    markup = {"inline_keyboard": [[{"text": "Ja", "callback_data": "j"}]]}
    fields = {"chat_id": ANNA, "text": "hej", "disable_notification": True}
    as_strings = {"chat_id": str(ANNA), "text": "hej", "disable_notification": "true"}
    markup_part = (None, json.dumps(markup).encode(), "application/json")
    encodings: dict[str, dict[str, Any]] = {
        "json": {"json": fields | {"reply_markup": markup}},
        "form": {"data": as_strings | {"reply_markup": json.dumps(markup)}},
        "multipart": {"data": as_strings, "files": {"reply_markup": markup_part}},
    }
    response = await raw_call(tg, "sendMessage", **encodings[encoding])
    assert response.json()["ok"] is True, response.text
    assert tg.calls("sendMessage") == [fields | {"reply_markup": markup}]
    tg.assert_no_violations()


async def test_polling_application_receives_injected_updates(tg: FakeTelegramServer) -> None:
    """A PTB Application polling the fake gets a deep-link /start with a bot_command entity."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"args={context.args}")  # type: ignore[union-attr]

    app = (
        Application.builder()
        .token(tg.token)
        .base_url(tg.bot_base_url)
        .base_file_url(tg.file_base_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=dtm.timedelta(seconds=1))  # type: ignore[union-attr]
        tg.send_text(ANNA, "/start pass_12")
        reply = await tg.wait_for_message(ANNA)
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()
    assert reply.text == "args=['pass_12']"
    assert tg.pending_updates() == 0
    tg.assert_no_violations()


async def test_long_poll_wakes_as_soon_as_an_update_is_injected(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """getUpdates with a long timeout returns at once when an update arrives."""
    poll = asyncio.create_task(bot.get_updates(timeout=10, read_timeout=15))
    await tg.wait_until(lambda: bool(tg.calls("getUpdates")))
    started = time.monotonic()
    tg.send_group_text(-100200, BENGT, "/hjalp@vandra_test_bot")
    updates = await poll
    assert time.monotonic() - started < 1.0
    message = updates[0].message
    assert message is not None and message.chat.type == "group"
    assert message.parse_entities() == {message.entities[0]: "/hjalp@vandra_test_bot"}
    next_batch = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert next_batch == ()


async def test_a_second_poller_ends_the_first_with_conflict(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """Two processes polling at once: the older long poll gets 409 and it is a violation."""
    first = asyncio.create_task(bot.get_updates(timeout=5, read_timeout=10))
    await tg.wait_until(lambda: bool(tg.calls("getUpdates")))
    async with telegram.Bot(**tg.bot_kwargs()) as second_process:
        assert await second_process.get_updates(timeout=0) == ()
    with pytest.raises(telegram.error.Conflict):
        await first
    assert tg.violations == ["getUpdates: 409 Conflict: terminated by other getUpdates request"]


async def test_webhook_delivery_carries_the_secret_and_retries(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """With a webhook set, updates are POSTed with the secret header, retried after a 500."""
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def webhook(request: Request) -> Response:
        secret = request.headers.get("x-telegram-bot-api-secret-token")
        received.append((secret, await request.json()))
        return Response(status_code=500 if len(received) == 1 else 200)

    sink = Starlette(routes=[Route("/telegram/webhook", webhook, methods=["POST"])])
    async with serve_asgi(sink) as sink_url:
        await bot.set_webhook(f"{sink_url}/telegram/webhook", secret_token="s3cret-token")
        tg.send_text(ANNA, "hej")
        await tg.wait_until(lambda: bool(tg.webhook_deliveries))
        info = await bot.get_webhook_info()
        with pytest.raises(telegram.error.Conflict):
            await bot.get_updates()
    assert [secret for secret, _ in received] == ["s3cret-token", "s3cret-token"]
    assert received[1][1]["message"]["text"] == "hej"
    assert tg.webhook_deliveries == [WebhookDelivery(received[1][1]["update_id"], 200, 2)]
    assert (info.url, info.pending_update_count) == (f"{sink_url}/telegram/webhook", 0)
    assert [v.split(":")[0] for v in tg.violations] == ["getUpdates"]


async def test_send_document_is_recorded_and_downloadable(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """sendDocument (multipart) records filename, bytes and caption; getFile serves them."""
    content = b"datum;pass\r\n2026-11-28;Baronen\n\x00\xff"
    message = await bot.send_document(ANNA, content, filename="pass.csv", caption="Export")
    [document] = tg.documents
    assert (document.filename, document.content, document.caption) == (
        "pass.csv",
        content,
        "Export",
    )
    assert message.document is not None and message.document.file_name == "pass.csv"
    downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content
    tg.assert_no_violations()


async def test_commands_are_stored_per_scope_and_language(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """setMyCommands stores per scope+language; get and delete use the same key."""
    await bot.set_my_commands([BotCommand("pass", "Kommande pass")])
    await bot.set_my_commands([BotCommand("shifts", "Upcoming shifts")], language_code="en")
    scope = BotCommandScopeChat(ANNA)
    await bot.set_my_commands([BotCommand("bemanning", "Bemanning")], scope=scope)
    assert tg.commands_for() == ["pass"]
    assert tg.commands_for(language_code="en") == ["shifts"]
    assert tg.commands_for({"type": "chat", "chat_id": ANNA}) == ["bemanning"]
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["bemanning"]
    await bot.delete_my_commands(scope=scope)
    assert await bot.get_my_commands(scope=scope) == ()
    with pytest.raises(telegram.error.BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Mina-Data", "Fel")])
    assert len(tg.violations) == 1


async def test_callback_answers_record_latency_and_reject_stale_ids(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """press_button injects a callback query; answering twice is 'query is too old'."""
    message = await bot.send_message(ANNA, "Vill du gå?", reply_markup=keyboard(("Ja", "j:7")))
    query_id = tg.press_button(ANNA, message.message_id, "j:7")
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query is not None and update.callback_query.data == "j:7"
    assert update.callback_query.message.message_id == message.message_id  # type: ignore[union-attr]
    await bot.answer_callback_query(query_id, text="Anmäld")
    with pytest.raises(telegram.error.BadRequest, match="too old"):
        await bot.answer_callback_query(query_id)
    [answer] = tg.callback_answers
    assert (answer.user_id, answer.text) == (ANNA, "Anmäld")
    assert 0 <= answer.latency_s < 2
    assert tg.violations == []


async def test_migrated_group_answers_chat_migrated(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """After migrate_group, sending to the old id raises ChatMigrated with the new id."""
    tg.send_group_text(-4001, ANNA, "hej")
    tg.migrate_group(-4001, -1004001)
    with pytest.raises(telegram.error.ChatMigrated) as caught:
        await bot.send_message(-4001, "Pass på lördag")
    assert caught.value.new_chat_id == -1004001
    await bot.send_message(-1004001, "Pass på lördag")
    assert tg.delivered == {-1004001: 1}


async def test_wait_for_message_reads_the_chat_in_order(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """wait_for_message returns each message once, honours the predicate and times out."""
    await bot.send_message(ANNA, "ett")
    await bot.send_message(ANNA, "två")
    await bot.send_message(ANNA, "tre")
    assert (await tg.wait_for_message(ANNA)).text == "ett"
    assert (await tg.wait_for_message(ANNA, lambda m: m.text == "tre")).text == "tre"
    with pytest.raises(TimeoutError, match="ett"):
        await tg.wait_for_message(ANNA, timeout=0.05)


async def test_injected_updates_match_the_spec(tg: FakeTelegramServer, bot: telegram.Bot) -> None:
    """Every kind of injected update is a valid Update per the Bot API spec."""
    message = await bot.send_message(ANNA, "Dela nummer", reply_markup=keyboard(("Ja", "j")))
    tg.send_text(ANNA, "/start")
    tg.send_contact(ANNA, "46701234567")
    tg.press_button(ANNA, message.message_id, "j")
    tg.send_group_text(-4001, BENGT, "hej")
    tg.migrate_group(-4001, -1004001)
    tg.block_bot(BENGT)
    updates = (await raw_call(tg, "getUpdates", json={"timeout": 0})).json()["result"]
    problems = [tg.spec.check_value(update, ["Update"], "update") for update in updates]
    assert len(updates) == 7
    assert problems == [None] * 7
    contact = updates[1]["message"]["contact"]
    assert contact == {"phone_number": "46701234567", "first_name": "Anna", "user_id": ANNA}


async def test_thread_mode_serves_a_bot_on_another_loop() -> None:
    """start_in_thread runs the fake on its own loop; controls and waits work across loops."""
    with FakeTelegramServer() as tg:
        tg.add_user(ANNA, "Anna")
        async with telegram.Bot(**tg.bot_kwargs()) as real_bot:
            tg.send_text(ANNA, "hej")
            [update] = await real_bot.get_updates(timeout=1)
            await real_bot.send_message(ANNA, f"Du skrev {update.message.text}")  # type: ignore[union-attr]
            reply = await tg.wait_for_message(ANNA)
    assert reply.text == "Du skrev hej"
    assert tg.messages_to(ANNA) == [reply]
    tg.assert_no_violations()


async def test_chat_action_menu_button_and_other_methods(
    tg: FakeTelegramServer, bot: telegram.Bot
) -> None:
    """sendChatAction and setChatMenuButton are recorded; other valid methods answer true."""
    await bot.send_chat_action(ANNA, "typing")
    await bot.set_chat_menu_button(ANNA, MenuButtonCommands())
    assert await bot.get_chat_menu_button(ANNA) == MenuButtonCommands()
    assert await bot.set_my_description("Nattvandring i Kalmar") is True
    message = await bot.send_message(ANNA, "Tillfälligt")
    assert await bot.delete_message(ANNA, message.message_id) is True
    with pytest.raises(telegram.error.BadRequest, match="not found"):
        await bot.delete_message(ANNA, message.message_id)
    with pytest.raises(telegram.error.BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(ANNA, "dancing")
    assert tg.chat_actions == [(ANNA, "typing")]
    assert tg.menu_buttons == {ANNA: {"type": "commands"}}
    assert tg.messages_to(ANNA) == []
    assert len(tg.violations) == 1
