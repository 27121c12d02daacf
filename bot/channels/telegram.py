"""The Telegram channel: python-telegram-bot updates in, dialogue replies out.

It only translates. An update becomes an ``Inbound`` (command, text, chosen button, shared
contact); replies become messages with inline keyboards. A button press is answered at once
(a stale or forged one with a short text), and the message it sat on is edited in place when
the reply is an updated version of it. Personal data goes to private chats only; in a group
the bot points to a private chat. ``TelegramSender`` delivers outbox messages for the
dispatcher and maps Telegram's errors to retry or give up.

A reply to an update is retried when the Bot API is briefly unwell (a 5xx, a refused
connection) or asks to wait a little (429 with a short ``retry_after``); a timeout is not
retried, since the message may have arrived. What still fails is logged, and the next update
is handled as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.telegram_http import AiohttpRequest
from bot.dialogue.engine import COMMANDS, Dialogue
from bot.dialogue.turn import Inbound
from bot.i18n import t
from scheduling.common.context import Context
from scheduling.messages.content import (
    ChannelNotReady,
    Delivery,
    Outgoing,
    PermanentSendError,
    Recipient,
    TransientSendError,
)
from scheduling.people import directory

log = logging.getLogger("vandra.telegram")

CALLBACK_ANSWER_WITHIN_S = 1.5
REPLY_ATTEMPTS = 3
REPLY_MAX_WAIT_S = 5.0  # a reply is worth waiting this long for; a longer 429 gives up
T = TypeVar("T")
# No link previews: a preview fetch would use up a one-time dashboard link, and calendar and
# dashboard links are private.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
MAX_TEXT = 4096
# Updates of different people are handled concurrently, at most this many at once (each one
# mostly waits for the database or the Bot API); one person's updates strictly in order.
CONCURRENT_UPDATES = 32
# Updates taken in at once, running or waiting for their person's earlier update; more wait
# in line (in arrival order) for python-telegram-bot's own limit.
ACCEPTED_UPDATES = 4096
VOLUNTEER_COMMANDS = {
    "sv": [
        ("start", "Börja / registrera dig"),
        ("pass", "Kommande pass"),
        ("mina", "Mina pass och kalender"),
        ("rapport", "Rapport efter vandringen"),
        ("hjalp", "Hjälp"),
        ("sprak", "Språk / language"),
        ("mina_data", "Allt vi sparat om dig"),
        ("radera", "Radera mig"),
    ],
    "en": [
        ("start", "Start / register"),
        ("shifts", "Coming shifts"),
        ("my", "My shifts and calendar"),
        ("report", "Report after the walk"),
        ("help", "Help"),
        ("language", "Language / språk"),
        ("mydata", "Everything stored about you"),
        ("delete", "Delete me"),
    ],
}
MANAGER_COMMANDS = {
    "sv": [
        ("nytt_pass", "Nytt pass eller serie"),
        ("bemanning", "Bemanning två veckor"),
        ("utskick", "Kalla in vandrare"),
        ("statistik", "Statistik"),
        ("export", "Exportfil"),
        ("dashboard", "Länk till webbvyn"),
    ],
    "en": [
        ("newshift", "New shift or series"),
        ("staffing", "Staffing two weeks ahead"),
        ("broadcast", "Call for walkers"),
        ("stats", "Statistics"),
        ("export", "Export file"),
        ("dashboard", "Link to the web view"),
    ],
}


class PerPersonOrder(BaseUpdateProcessor):
    """Handles the updates of different people concurrently and each person's in order.

    The dialogue keeps one conversation per person: two of their updates handled at once
    could both read the same state, so an update waits until the same person's (or, without
    a person, the same chat's) previous update is done. The order is taken when
    python-telegram-bot starts the update's task, which is the order Telegram delivered them
    in, and does not depend on the order in which waiters are woken. Updates of other people
    go ahead, at most ``limit`` at once; an update waiting for its turn holds no slot.
    """

    def __init__(self, limit: int, accepted: int = ACCEPTED_UPDATES) -> None:
        super().__init__(max(limit, accepted))
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None
        self._last: dict[tuple[str, int], asyncio.Future[None]] = {}

    async def initialize(self) -> None:
        self._slots = asyncio.Semaphore(self.limit)

    async def shutdown(self) -> None:
        """Nothing to free: the application waits for running updates before this."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        key = ordering_key(update)
        before = self._last.get(key) if key is not None else None
        done: asyncio.Future[None] | None = None
        if key is not None:
            done = asyncio.get_running_loop().create_future()
            self._last[key] = done
        started = False
        try:
            if before is not None:
                await asyncio.shield(before)
            async with self._slots:
                started = True
                await coroutine
        finally:
            if not started and asyncio.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting: it never ran
            if key is not None and done is not None:
                done.set_result(None)
                if self._last.get(key) is done:
                    del self._last[key]


def ordering_key(update: object) -> tuple[str, int] | None:
    """Whose turn an update belongs to: the sender, else the chat, else nobody's (None)."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return None


def commands_for(language: str, manager: bool) -> list[BotCommand]:
    pairs = VOLUNTEER_COMMANDS[language] + (MANAGER_COMMANDS[language] if manager else [])
    return [BotCommand(name, description) for name, description in pairs]


class TelegramChannel:
    """Runs the python-telegram-bot Application and connects it to the dialogue."""

    def __init__(self, ctx: Context, dialogue: Dialogue) -> None:
        self.ctx = ctx
        self.dialogue = dialogue
        settings = ctx.settings.telegram
        assert settings.token is not None
        base = settings.api_base_url
        builder = (
            Application.builder()
            .token(settings.token.get_secret_value())
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .job_queue(None)
            .concurrent_updates(PerPersonOrder(CONCURRENT_UPDATES))
            .request(AiohttpRequest(connection_pool_size=CONCURRENT_UPDATES * 2))
            .get_updates_request(AiohttpRequest(connection_pool_size=1))
        )
        if settings.mode == "webhook":
            builder = builder.updater(None)
        self.application = builder.build()
        self._add_handlers()
        self.running = False

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, set the command menus, then poll or set the webhook."""
        app = self.application
        await app.initialize()
        await self.publish_commands()
        settings = self.ctx.settings.telegram
        await app.start()
        if settings.mode == "webhook":
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            await app.bot.set_webhook(
                f"{self.ctx.settings.http.public_url}/telegram/webhook",
                secret_token=secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            await app.bot.delete_webhook()
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        self.running = True

    async def stop(self) -> None:
        app = self.application
        self.running = False
        with contextlib.suppress(Exception):
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
        with contextlib.suppress(Exception):
            if app.running:
                await app.stop()
        with contextlib.suppress(Exception):
            await app.shutdown()

    async def publish_commands(self) -> None:
        """Volunteer commands for everyone (sv default, en by language); each lead's and
        coordinator's own chat gets the full list in their language."""
        bot = self.application.bot
        await bot.set_my_commands(commands_for("sv", False), scope=BotCommandScopeDefault())
        await bot.set_my_commands(
            commands_for("en", False), scope=BotCommandScopeDefault(), language_code="en"
        )
        for person in await directory.list_managers(self.ctx):
            if person.telegram_id is None or person.telegram_blocked:
                continue
            lang = person.language if person.language in ("sv", "en") else "sv"
            with contextlib.suppress(TelegramError):
                await bot.set_my_commands(
                    commands_for(lang, True), scope=BotCommandScopeChat(person.telegram_id)
                )

    async def feed(self, update: Update) -> None:
        """Webhook mode: hand a received update to the application."""
        await self.application.update_queue.put(update)

    # --- updates ----------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        app = self.application
        app.add_handler(ChatMemberHandler(self._on_member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_handler(MessageHandler(filters.CONTACT, self._on_contact))
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        app.add_handler(MessageHandler(filters.TEXT, self._on_text))
        app.add_handler(TypeHandler(Update, self._ignore))
        app.add_error_handler(self._on_error)

    async def _ignore(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Photos, stickers and the like: nothing to do."""

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error(
            "telegram update failed: %s", type(context.error).__name__, exc_info=context.error
        )

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or message.text is None:
            return
        if not await self._private_only(message):
            return
        await self._answer(
            message, _text_inbound(message.text, user.id, user.first_name, user.language_code)
        )

    async def _on_contact(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or message.contact is None:
            return
        if not await self._private_only(message):
            return
        base = _base_inbound(user.id, user.first_name, user.language_code)
        if message.contact.user_id != user.id:
            lang = await self._language_of(user.id, user.language_code)
            await message.reply_text(
                t(lang, "telegram.not_your_contact"), reply_markup=ReplyKeyboardRemove()
            )
            return
        inbound = replace(base, contact_phone=message.contact.phone_number)
        replies = await self.dialogue.handle(inbound)
        first, *rest = replies or [Outgoing(text="")]
        await persist(
            lambda: message.reply_text(first.text[:MAX_TEXT], reply_markup=ReplyKeyboardRemove())
        )
        for reply in rest:
            await self._send_reply(message.chat_id, reply)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        user = update.effective_user
        if query is None or user is None:
            return
        if (
            not isinstance(query.data, str)
            or query.message is None
            or (query.message.chat.type != ChatType.PRIVATE)
        ):
            lang = await self._language_of(user.id, user.language_code)
            await _answer_quietly(query, t(lang, "common.stale_button"))
            return
        inbound = replace(
            _base_inbound(user.id, user.first_name, user.language_code), action=query.data
        )
        work = asyncio.ensure_future(self.dialogue.handle(inbound))
        done, _ = await asyncio.wait({work}, timeout=CALLBACK_ANSWER_WITHIN_S)
        if not done:
            await _answer_quietly(query)
        replies = await work
        stale = t("sv", "common.stale_button"), t("en", "common.stale_button")
        if work in done and len(replies) == 1 and replies[0].text in stale:
            await _answer_quietly(query, replies[0].text)
            return
        if work in done:
            await _answer_quietly(query)
        await self._deliver(query, query.data, replies)

    async def _on_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None or change.chat.type != ChatType.PRIVATE:
            return
        blocked = change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        await directory.set_telegram_reachable(self.ctx, change.from_user.id, not blocked)

    async def _on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup. vandra stores no group ids, so there is nothing to move;
        the bot only ever writes to private chats."""

    # --- replies ----------------------------------------------------------------------------

    async def _private_only(self, message: Message) -> bool:
        """In groups the bot never shows personal data: it points to a private chat."""
        if message.chat.type == ChatType.PRIVATE:
            return True
        if message.text and message.text.startswith("/"):
            username = self.application.bot.username
            await message.reply_text(
                t("sv", "telegram.private_only", link=f"https://t.me/{username}")
            )
        return False

    async def _answer(self, message: Message, inbound: Inbound) -> None:
        for reply in await self.dialogue.handle(inbound):
            await self._send_reply(message.chat_id, reply)

    async def _deliver(self, query: CallbackQuery, action: str, replies: list[Outgoing]) -> None:
        """Replies to a button: a new version of the pressed message (its ``edit_key`` matches
        the button's action, e.g. a shift card opened from the list, or a multi-choice
        question with one more option ticked) edits it in place; other replies are sent."""
        edited = False
        message = query.message
        for reply in replies:
            key = reply.edit_key
            if (
                not edited
                and key is not None
                and isinstance(message, Message)
                and (action == key or action.startswith(key + ":"))
                and not reply.request_contact
                and reply.document is None
            ):
                edited = await _edit(message, reply)
                if edited:
                    continue
            if message is not None:
                await self._send_reply(message.chat.id, reply)

    async def _send_reply(self, chat_id: int, reply: Outgoing) -> Message:
        bot = self.application.bot
        document = reply.document
        if document is not None:
            return await persist(
                lambda: bot.send_document(
                    chat_id,
                    document.content,
                    filename=document.filename,
                    caption=reply.text[:1024] or None,
                )
            )
        return await persist(
            lambda: bot.send_message(
                chat_id,
                reply.text[:MAX_TEXT],
                reply_markup=markup(reply),
                link_preview_options=NO_PREVIEW,
            )
        )

    async def _language_of(self, telegram_id: int, hint: str | None) -> str:
        person = await directory.find_by_telegram_id(self.ctx, telegram_id)
        if person is not None:
            return person.language
        return "en" if (hint or "").startswith("en") else "sv"


def markup(reply: Outgoing) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """Options as one button per row; the share-contact request as a reply keyboard."""
    if reply.request_contact:
        label = "📱 Dela mitt nummer / Share my number"
        return ReplyKeyboardMarkup(
            [[KeyboardButton(label, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if not reply.options:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(o.label[:120], callback_data=o.action)] for o in reply.options]
    )


async def _edit(message: Message, reply: Outgoing) -> bool:
    keyboard = markup(reply)
    try:
        await persist(
            lambda: message.edit_text(
                reply.text[:MAX_TEXT],
                link_preview_options=NO_PREVIEW,
                reply_markup=keyboard if isinstance(keyboard, InlineKeyboardMarkup) else None,
            )
        )
    except BadRequest as error:
        return "not modified" in str(error).lower()  # identical content: already up to date
    return True


async def persist(call: Callable[[], Awaitable[T]]) -> T:
    """Make a Bot API call for a reply, riding out a short outage: a 5xx or a refused
    connection is retried, a 429 waited out when it asks for at most ``REPLY_MAX_WAIT_S``, up
    to ``REPLY_ATTEMPTS`` in all. A timeout is raised at once: the message may have arrived,
    and saying it twice is worse than the error being logged."""
    for attempt in range(1, REPLY_ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            if attempt == REPLY_ATTEMPTS or wait > REPLY_MAX_WAIT_S:
                raise
            log.warning("telegram asks to wait %.0f s before the reply", wait)
            await asyncio.sleep(wait)
        except TimedOut:
            raise
        except NetworkError as error:
            if attempt == REPLY_ATTEMPTS:
                raise
            log.warning("telegram reply failed (%s), trying again", type(error).__name__)
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")  # the last attempt returns or raises


def retry_after_seconds(error: RetryAfter) -> float:
    delay = error.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


async def _answer_quietly(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press; an answer that comes too late is not an error worth raising."""
    with contextlib.suppress(TelegramError):
        await query.answer(text=text[:200] if text else None)


def _base_inbound(user_id: int, first_name: str | None, language: str | None) -> Inbound:
    return Inbound(
        channel="telegram",
        address=str(user_id),
        telegram_id=user_id,
        display_name=first_name,
        language_hint=language,
    )


def _text_inbound(text: str, user_id: int, first_name: str | None, language: str | None) -> Inbound:
    """``/cmd args`` (``/cmd@botname`` too) becomes a command; anything else is text."""
    base = _base_inbound(user_id, first_name, language)
    stripped = text.strip()
    if stripped.startswith("/"):
        word, _, args = stripped[1:].partition(" ")
        name = word.split("@", 1)[0].lower()
        return replace(base, command=COMMANDS.get(name, name or "unknown"), args=args[:200])
    return replace(base, text=stripped[:4096])


class TelegramSender:
    """Delivers outbox messages through the bot for the dispatcher."""

    channel = "telegram"

    def __init__(self, application: Application) -> None:
        self.application = application

    async def send(
        self, recipient: Recipient, message: Outgoing, valid_until: datetime | None = None
    ) -> Delivery:
        if recipient.telegram_id is None:
            raise PermanentSendError("no telegram id")
        if not self.application.running:
            raise ChannelNotReady("the Telegram channel is not running yet")
        try:
            sent = await self.application.bot.send_message(
                recipient.telegram_id,
                message.text[:MAX_TEXT],
                reply_markup=markup(message),
                link_preview_options=NO_PREVIEW,
            )
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            raise TransientSendError("telegram rate limit", retry_after=seconds) from None
        except Forbidden:  # 403 only: blocked by the user, or the account is deactivated
            raise PermanentSendError("blocked by the user") from None
        except BadRequest as error:  # any 400: this message cannot go, the person may be fine
            reason = f"telegram refused: {error.message[:100]}"
            raise PermanentSendError(reason, unreachable=False) from None
        except NetworkError as error:  # includes TimedOut and 5xx answers
            uncertain = isinstance(error, TimedOut)  # sent, and no answer came
            reason = f"telegram: {type(error).__name__}"
            raise TransientSendError(reason, uncertain=uncertain) from None
        return Delivery(channel="telegram", provider_message_id=str(sent.message_id))
