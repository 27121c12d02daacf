"""The Telegram channel end to end: the real python-telegram-bot Application, polling (and in
webhook mode) against the fake Bot API server, every request checked against the spec."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.channels.telegram import (
    CONCURRENT_UPDATES,
    PerPersonOrder,
    TelegramChannel,
    ordering_key,
)
from bot.dialogue.engine import Dialogue
from fakes.telegram_server import FakeTelegramServer, SentMessage
from models.tables import OutboxMessage, Person, Role
from scheduling.common.context import Context
from scheduling.people import directory
from tests.helpers import OPERATOR, add_shift, seed_org_area, with_settings

ANNA, BO, MARIA = 1001, 1002, 5005


def telegram_ctx(
    ctx: Context, tg: FakeTelegramServer, public_url: str | None = None, **telegram: Any
) -> Context:
    return with_settings(
        ctx,
        telegram={"token": tg.token, "api_base_url": tg.base_url, **telegram},
        http={"public_url": public_url},
    )


@asynccontextmanager
async def running_bot(ctx: Context) -> AsyncIterator[tuple[FakeTelegramServer, TelegramChannel]]:
    async with FakeTelegramServer() as tg:
        for user_id, name in ((ANNA, "Anna"), (BO, "Bo"), (MARIA, "Maria")):
            tg.add_user(user_id, name)
        bot_ctx = telegram_ctx(ctx, tg)
        channel = TelegramChannel(bot_ctx, Dialogue(bot_ctx))
        await channel.start()
        try:
            yield tg, channel
        finally:
            await channel.stop()
        tg.assert_no_violations()


async def said(tg: FakeTelegramServer, chat: int, words: str) -> SentMessage:
    """The next message (or new version of an edited one) to ``chat`` containing ``words``."""
    seen: set[tuple[int, int, int]] = tg.__dict__.setdefault("_test_seen", set())
    for _ in range(500):
        for message in tg.messages_to(chat):
            key = (chat, message.message_id, message.edit_count)
            if key not in seen and words in (message.text or ""):
                seen.add(key)
                return message
        await asyncio.sleep(0.02)
    texts = [m.text for m in tg.messages_to(chat)]
    raise AssertionError(f"no new message with {words!r} to {chat}; it has {texts}")


async def press(tg: FakeTelegramServer, chat: int, message: SentMessage, label: str) -> None:
    tg.press_button(chat, message.message_id, message.callback_data_for(label))


async def register(tg: FakeTelegramServer, user: int, name: str) -> None:
    tg.send_text(user, "/start")
    await press(tg, user, await said(tg, user, "Vad heter du"), f"Använd {name}")
    await press(tg, user, await said(tg, user, "förening"), "IFK Kalmar")
    await press(tg, user, await said(tg, user, "minst 18"), "Ja, jag är minst 18")
    await press(tg, user, await said(tg, user, "Godkänner du"), "Jag godkänner")
    await said(tg, user, "registrerad")


async def test_register_then_sign_up_by_deep_link(ctx: Context) -> None:
    """/start pass_<id> registers a newcomer, then opens the shift; one tap signs up."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    async with running_bot(ctx) as (tg, _):
        tg.send_text(ANNA, f"/start pass_{shift.id}")
        await press(tg, ANNA, await said(tg, ANNA, "Vad heter du"), "Använd Anna")
        await press(tg, ANNA, await said(tg, ANNA, "förening"), "IFK Kalmar")
        await press(tg, ANNA, await said(tg, ANNA, "minst 18"), "Ja, jag är minst 18")
        await press(tg, ANNA, await said(tg, ANNA, "Godkänner du"), "Jag godkänner")
        await said(tg, ANNA, "registrerad")
        card = await said(tg, ANNA, f"Pass {shift.id}")
        await press(tg, ANNA, card, "Anmäl mig")
        await said(tg, ANNA, "anmäld")
        assert all(a.latency_s < 2 for a in tg.callback_answers)
        assert len(tg.callback_answers) == 5


async def test_an_edited_message_is_not_read_as_new_input(ctx: Context) -> None:
    """Telegram sends an edit of an old message as an update of its own. It is not an answer
    to the question asked now: the sender is told to write anew, and nothing changes."""
    await seed_org_area(ctx)
    async with running_bot(ctx) as (tg, _):
        tg.send_text(ANNA, "/start")
        await said(tg, ANNA, "Vad heter du")
        typed = tg.send_text(ANNA, "Ana Berg")
        question = await said(tg, ANNA, "förening")
        tg.edit_text(ANNA, typed, "/radera_mig")
        await said(tg, ANNA, "ändrade meddelanden")
        await press(tg, ANNA, question, "IFK Kalmar")
        await press(tg, ANNA, await said(tg, ANNA, "minst 18"), "Ja, jag är minst 18")
        await press(tg, ANNA, await said(tg, ANNA, "Godkänner du"), "Jag godkänner")
        await said(tg, ANNA, "registrerad")
        tg.send_text(BO, "/start")
        tg.edit_text(BO, tg.send_text(BO, "Bo"), "Bosse")
        await said(tg, BO, "ändrade meddelanden")
    person = await directory.find_by_telegram_id(ctx, ANNA)
    assert person is not None and person.name == "Ana Berg"
    assert await directory.find_by_telegram_id(ctx, BO) is None


async def test_waitlist_and_promotion_offer(ctx: Context) -> None:
    """A full shift gives "reservlista"; when the seat frees, the card offers to confirm it."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=1, min_walkers=1)
    async with running_bot(ctx) as (tg, _):
        await register(tg, ANNA, "Anna")
        await register(tg, BO, "Bo")
        tg.send_text(ANNA, "/pass")
        await press(tg, ANNA, await said(tg, ANNA, "Kommande pass"), "fre")
        await press(tg, ANNA, await said(tg, ANNA, f"Pass {shift.id}"), "Anmäl mig")
        await said(tg, ANNA, "anmäld")
        tg.send_text(BO, "/pass")
        await press(tg, BO, await said(tg, BO, "Kommande pass"), "fre")
        await press(tg, BO, await said(tg, BO, f"Pass {shift.id}"), "reservlistan")
        await said(tg, BO, "reservlista")
        tg.send_text(ANNA, "/mina")
        await press(tg, ANNA, await said(tg, ANNA, "Dina kommande pass"), "anmäld")
        await press(tg, ANNA, await said(tg, ANNA, f"Pass {shift.id}"), "Avboka")
        await said(tg, ANNA, "avbokad")
        tg.send_text(BO, "/mina")
        await press(tg, BO, await said(tg, BO, "Dina kommande pass"), "bekräfta")
        await press(tg, BO, await said(tg, BO, "väntar på dig"), "Bekräfta platsen")
        await said(tg, BO, "anmäld")


async def test_pressed_card_is_edited_in_place(ctx: Context) -> None:
    """Opening a shift from the list edits that message instead of sending a new one."""
    org, area = await seed_org_area(ctx)
    await add_shift(ctx, org, area)
    async with running_bot(ctx) as (tg, _):
        await register(tg, ANNA, "Anna")
        tg.send_text(ANNA, "/pass")
        listing = await said(tg, ANNA, "Kommande pass")
        await press(tg, ANNA, listing, "fre")
        card = await said(tg, ANNA, "Pass ")
        assert card.message_id == listing.message_id and card.edit_count == 1


async def test_forged_callback_gets_a_short_answer(ctx: Context) -> None:
    """A button payload the bot never sent is answered with a short text, not an error."""
    await seed_org_area(ctx)
    async with running_bot(ctx) as (tg, _):
        await register(tg, ANNA, "Anna")
        message = tg.last_message(ANNA)
        assert message is not None
        tg.press_button(ANNA, message.message_id, "drop table; --")
        await tg.wait_until(
            lambda: any("gäller inte" in (a.text or "") for a in tg.callback_answers)
        )


async def test_volunteer_refused_coordinator_commands(ctx: Context) -> None:
    """/nytt_pass, /bemanning and /utskick from a volunteer say "behörighet"."""
    await seed_org_area(ctx)
    async with running_bot(ctx) as (tg, _):
        await register(tg, ANNA, "Anna")
        for command in ("/nytt_pass", "/bemanning", "/utskick"):
            tg.send_text(ANNA, command)
            await said(tg, ANNA, "behörighet")


async def test_coordinator_creates_series_and_broadcasts(ctx: Context) -> None:
    """A coordinator creates a Fri+Sat series in chat and calls walkers; calls are queued."""
    await seed_org_area(ctx)
    coordinator = await directory.add_person(
        ctx, OPERATOR, name="Maria", telegram_id=MARIA, role=Role.COORDINATOR
    )
    await directory.record_consent(ctx, coordinator.id or 0)
    async with running_bot(ctx) as (tg, _):
        manager_menu = tg.commands_for({"type": "chat", "chat_id": MARIA}, "")
        assert "nytt_pass" in manager_menu and "pass" in manager_menu
        await register(tg, ANNA, "Anna")
        tg.send_text(MARIA, "/nytt_pass")
        await press(tg, MARIA, await said(tg, MARIA, "vilken förening"), "IFK Kalmar")
        await press(tg, MARIA, await said(tg, MARIA, "Vilket område"), "Baronen")
        await press(tg, MARIA, await said(tg, MARIA, "Vilket datum"), "fre")
        await press(tg, MARIA, await said(tg, MARIA, "Starttid"), "21:00")
        await press(tg, MARIA, await said(tg, MARIA, "Sluttid"), "01:00")
        await press(tg, MARIA, await said(tg, MARIA, "återkomma"), "Varje fredag och lördag")
        await press(tg, MARIA, await said(tg, MARIA, "Till och med"), "4 veckor")
        await press(tg, MARIA, await said(tg, MARIA, "Skapa pass"), "Skapa")
        created = await said(tg, MARIA, "pass skapade")
        await press(tg, MARIA, created, "Kalla in vandrare")
        await press(tg, MARIA, await said(tg, MARIA, "Vilka ska få"), "Föreningens vandrare")
        await said(tg, MARIA, "1 vandrare")
    async with ctx.store.sessions() as session:
        calls = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.kind == "call_for_walkers")
            )
        ).all()
    assert len(calls) == 1


async def test_restart_mid_registration(ctx: Context) -> None:
    """Stopping the bot between two registration steps loses nothing."""
    await seed_org_area(ctx)
    async with FakeTelegramServer() as tg:
        tg.add_user(ANNA, "Anna")
        bot_ctx = telegram_ctx(ctx, tg)
        first = TelegramChannel(bot_ctx, Dialogue(bot_ctx))
        await first.start()
        tg.send_text(ANNA, "/start")
        await press(tg, ANNA, await said(tg, ANNA, "Vad heter du"), "Använd Anna")
        question = await said(tg, ANNA, "förening")
        await first.stop()
        second = TelegramChannel(bot_ctx, Dialogue(bot_ctx))
        await second.start()
        try:
            await press(tg, ANNA, question, "IFK Kalmar")
            await said(tg, ANNA, "minst 18")
        finally:
            await second.stop()
        tg.assert_no_violations()


async def test_contact_only_from_its_owner_links_the_cli_person(ctx: Context) -> None:
    """Someone else's contact is refused; one's own links to the person the CLI added."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    await directory.add_person(ctx, OPERATOR, name="Anna L", phone="0701234567", organisation=org)
    async with running_bot(ctx) as (tg, _):
        await register(tg, ANNA, "Anna")
        tg.send_text(ANNA, f"/start pass_{shift.id}")
        await press(tg, ANNA, await said(tg, ANNA, f"Pass {shift.id}"), "Anmäl mig")
        tg.send_contact(ANNA, "+46709999999", contact_user_id=BO)
        await said(tg, ANNA, "eget nummer")
        tg.send_contact(ANNA, "+46 70 123 45 67", contact_user_id=ANNA)
        await said(tg, ANNA, "sparat")
    async with ctx.store.sessions() as session:
        people = (await session.exec(select(Person))).all()
    assert [(p.name, p.phone, p.telegram_id) for p in people] == [("Anna L", "+46701234567", ANNA)]


async def test_group_chat_gets_a_link_to_a_private_chat(ctx: Context) -> None:
    """In a group the bot shows no personal data; it points to a private chat."""
    await seed_org_area(ctx)
    async with running_bot(ctx) as (tg, _):
        tg.send_group_text(-100123, ANNA, "/mina")
        message = await tg.wait_for_message(-100123, timeout=10)
        assert "t.me/vandra_test_bot" in (message.text or "")


async def test_blocking_the_bot_marks_the_person_unreachable(ctx: Context) -> None:
    """my_chat_member 'kicked' marks Telegram unreachable; unblocking restores it."""
    await seed_org_area(ctx)
    async with running_bot(ctx) as (tg, _):
        await register(tg, ANNA, "Anna")
        tg.block_bot(ANNA)
        await tg.wait_until(lambda: not tg.pending_updates(), timeout=5)
        person = await _wait_for(ctx, lambda p: p.telegram_blocked)
        assert person.telegram_blocked
        tg.unblock_bot(ANNA)
        person = await _wait_for(ctx, lambda p: not p.telegram_blocked)


async def _wait_for(ctx: Context, condition: Any) -> Person:
    for _ in range(100):
        person = await directory.find_by_telegram_id(ctx, ANNA)
        if person is not None and condition(person):
            return person
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


async def test_commands_registered_in_both_languages(ctx: Context) -> None:
    """setMyCommands: Swedish by default, English for language_code=en."""
    async with running_bot(ctx) as (tg, _):
        swedish = tg.commands_for(None, "")
        english = tg.commands_for(None, "en")
    assert swedish == ["start", "pass", "mina", "rapport", "hjalp", "sprak", "mina_data", "radera"]
    assert english == ["start", "shifts", "my", "report", "help", "language", "mydata", "delete"]


@pytest.mark.parametrize("secret_header", ["right", "wrong", "missing"])
async def test_webhook_mode(ctx: Context, secret_header: str) -> None:
    """Webhook: setWebhook with the secret; a wrong or missing secret is 403 and ignored."""
    from starlette.applications import Starlette

    from bot.channels.telegram_webhook import webhook_routes
    from fakes.telegram_server import serve_asgi

    await seed_org_area(ctx)
    async with FakeTelegramServer() as tg:
        tg.add_user(ANNA, "Anna")
        holder: dict[str, TelegramChannel] = {}

        async def forward(request: Any) -> Any:
            return await holder["routes"][0].endpoint(request)  # type: ignore[index]

        from starlette.routing import Route

        app = Starlette(routes=[Route("/telegram/webhook", forward, methods=["POST"])])
        async with serve_asgi(app) as url:
            bot_ctx = telegram_ctx(
                ctx, tg, public_url=url, mode="webhook", webhook_secret="s3cret_value_s3cret"
            )
            channel = TelegramChannel(bot_ctx, Dialogue(bot_ctx))
            holder["routes"] = webhook_routes(bot_ctx, channel)  # type: ignore[assignment]
            await channel.start()
            try:
                update = {
                    "update_id": 77,
                    "message": {
                        "message_id": 1,
                        "date": 0,
                        "text": "/hjalp",
                        "chat": {"id": ANNA, "type": "private"},
                        "from": {"id": ANNA, "is_bot": False, "first_name": "Anna"},
                        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                    },
                }
                headers = {
                    "right": {"X-Telegram-Bot-Api-Secret-Token": "s3cret_value_s3cret"},
                    "wrong": {"X-Telegram-Bot-Api-Secret-Token": "nope"},
                    "missing": {},
                }[secret_header]
                async with httpx.AsyncClient() as client:
                    first = await client.post(
                        f"{url}/telegram/webhook", json=update, headers=headers
                    )
                    again = await client.post(
                        f"{url}/telegram/webhook", json=update, headers=headers
                    )
                    bad = await client.post(
                        f"{url}/telegram/webhook", content=b"{nope", headers=headers
                    )
                if secret_header == "right":
                    assert (first.status_code, again.status_code, bad.status_code) == (
                        200,
                        200,
                        400,
                    )
                    await said(tg, ANNA, "vandra samordnar")
                    assert (
                        len(
                            [
                                m
                                for m in tg.messages_to(ANNA)
                                if "vandra samordnar" in (m.text or "")
                            ]
                        )
                        == 1
                    )
                else:
                    assert (first.status_code, bad.status_code) == (403, 403)
                    assert tg.messages_to(ANNA) == []
                assert tg.calls("setWebhook")[-1]["secret_token"] == "s3cret_value_s3cret"
            finally:
                await channel.stop()
        tg.assert_no_violations()


async def test_sign_up_reminder_window_respects_time(ctx: Context, clock: Any) -> None:
    """Check-in appears on the card from an hour before the start."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=3))
    async with running_bot(ctx) as (tg, _):
        await register(tg, ANNA, "Anna")
        tg.send_text(ANNA, f"/start pass_{shift.id}")
        card = await said(tg, ANNA, f"Pass {shift.id}")
        assert "Checka in" not in str(card.buttons)
        await press(tg, ANNA, card, "Anmäl mig")
        await said(tg, ANNA, "anmäld")
        clock.advance(timedelta(hours=2, minutes=30))
        tg.send_text(ANNA, f"/start pass_{shift.id}")
        card = await said(tg, ANNA, f"Pass {shift.id}")
        await press(tg, ANNA, card, "Checka in")
        await said(tg, ANNA, "Incheckad")


# --- updates of different people concurrently, each person's in order ----------------------


def _text_update(update_id: int, user_id: int, text: str) -> Update:
    data = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "text": text,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"},
        },
    }
    return Update.de_json(data, None)


async def test_the_channel_handles_updates_concurrently_in_order_per_person(ctx: Context) -> None:
    """The channel's application runs updates concurrently through PerPersonOrder."""
    async with running_bot(ctx) as (_, channel):
        processor = channel.application.update_processor
        assert isinstance(processor, PerPersonOrder)
        assert processor.limit == CONCURRENT_UPDATES > 1
        assert channel.application.concurrent_updates > 1


async def test_one_persons_updates_wait_for_each_other_and_others_go_ahead() -> None:
    """A slow update holds back that person's next one but not someone else's."""
    async with FakeTelegramServer() as tg:
        for user_id, name in ((ANNA, "Anna"), (BO, "Bo")):
            tg.add_user(user_id, name)
        events: list[tuple[str, str]] = []

        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.effective_message is not None and update.effective_user is not None
            text = update.effective_message.text or ""
            events.append(("start", text))
            await asyncio.sleep(0.4 if text.startswith("slow") else 0.01)
            events.append(("end", text))
            await update.effective_message.reply_text(f"ok {text}")

        app = (
            Application.builder()
            .token(tg.token)
            .base_url(tg.bot_base_url)
            .base_file_url(tg.file_base_url)
            .job_queue(None)
            .concurrent_updates(PerPersonOrder(8))
            .build()
        )
        app.add_handler(MessageHandler(filters.TEXT, handle))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling()
            try:
                tg.send_text(ANNA, "slow 1")
                tg.send_text(ANNA, "fast 2")
                tg.send_text(BO, "fast 3")
                await tg.wait_until(lambda: tg.delivered[ANNA] == 2 and tg.delivered[BO] == 1)
            finally:
                await app.updater.stop()
                await app.stop()
        tg.assert_no_violations()
    assert [m.text for m in tg.messages_to(ANNA)] == ["ok slow 1", "ok fast 2"]
    assert events.index(("end", "slow 1")) < events.index(("start", "fast 2"))
    assert events.index(("end", "fast 3")) < events.index(("end", "slow 1"))


async def test_an_update_cancelled_while_waiting_lets_the_next_one_run() -> None:
    """Cancelling a waiting update never runs it (nor leaks it) and frees the person's turn."""
    processor = PerPersonOrder(4)
    await processor.initialize()
    release = asyncio.Event()
    ran: list[str] = []

    async def work(name: str, wait: bool = False) -> None:
        if wait:
            await release.wait()
        ran.append(name)

    def submit(update_id: int, user_id: int, job: Any) -> asyncio.Task[None]:
        update = _text_update(update_id, user_id, "hej")
        return asyncio.create_task(processor.process_update(update, job))

    first = submit(1, ANNA, work("1", wait=True))
    second = submit(2, ANNA, work("2"))
    third = submit(3, ANNA, work("3"))
    other = submit(4, BO, work("4"))
    await asyncio.sleep(0.05)
    assert ran == ["4"]
    second.cancel()
    release.set()
    await asyncio.gather(first, third, other)
    assert second.cancelled()
    assert ran == ["4", "1", "3"]
    await processor.shutdown()


def test_ordering_key_is_the_sender_else_the_chat() -> None:
    """Updates are ordered per sender; without one, per chat; without either, not at all."""
    assert ordering_key(_text_update(1, ANNA, "hej")) == ("user", ANNA)
    channel_post = Update.de_json(
        {
            "update_id": 2,
            "channel_post": {
                "message_id": 1,
                "date": 0,
                "text": "hej",
                "chat": {"id": -1001, "type": "channel", "title": "Kanal"},
            },
        },
        None,
    )
    assert ordering_key(channel_post) == ("chat", -1001)
    assert ordering_key(Update(update_id=3)) is None
    assert ordering_key("not an update") is None
