"""The Telegram channel: python-telegram-bot updates in, dialogue replies out.

It only translates. An update becomes an ``Inbound`` (command, text, chosen button, shared
contact: ``telegram_inbound``); replies become messages with inline keyboards
(``telegram_send``). A button press is answered at once (a stale or forged one with a short
text), and the message it sat on is edited in place when the reply is an updated version of
it. Personal data goes to private chats only; in a group the bot points to a private chat.
What still fails after ``telegram_send.persist``'s retries is logged, and the next update is
handled as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

from telegram import CallbackQuery, ChatMemberUpdated, Message, ReplyKeyboardRemove, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_inbound import base_inbound, location_action, text_inbound
from bot.channels.telegram_menus import publish_commands
from bot.channels.telegram_order import CONCURRENT_UPDATES as CONCURRENT_UPDATES
from bot.channels.telegram_order import PerPersonOrder as PerPersonOrder
from bot.channels.telegram_order import ordering_key as ordering_key
from bot.channels.telegram_send import (
    MAX_TEXT,
    answer_quietly,
    edit_in_place,
    persist,
    send_unread,
)
from bot.channels.telegram_send import TelegramSender as TelegramSender
from bot.dialogue.engine import Dialogue
from bot.dialogue.turn import Inbound
from bot.i18n import pick_language, t
from scheduling.common.context import Context
from scheduling.messages.content import Outgoing
from scheduling.people import directory

log = logging.getLogger("vandra.telegram")

CALLBACK_ANSWER_WITHIN_S = 1.5


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
        """The command menus (``telegram_menus``)."""
        await publish_commands(self.application.bot, self.ctx)

    async def feed(self, update: Update) -> None:
        """Webhook mode: hand a received update to the application."""
        await self.application.update_queue.put(update)

    # --- updates ----------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        app = self.application
        app.add_handler(ChatMemberHandler(self._on_member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_handler(MessageHandler(filters.CONTACT, self._on_contact))
        app.add_handler(MessageHandler(filters.LOCATION, self._on_location))
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self._on_edited))
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
            message, text_inbound(message.text, user.id, user.first_name, user.language_code)
        )

    async def _on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An old message's text changed (live locations are handled above). Answering it as
        the reply to the question asked now would act on words the sender never sent to it, so
        in a private chat they are told to write anew; elsewhere it is let be."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or message.text is None:
            return
        if message.chat.type != ChatType.PRIVATE:
            return
        lang = await self._language_of(user.id, user.language_code)
        await persist(lambda: message.reply_text(t(lang, "telegram.edit_not_read")))

    async def _on_contact(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or message.contact is None:
            return
        if not await self._private_only(message):
            return
        base = base_inbound(user.id, user.first_name, user.language_code)
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

    async def _on_location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A shared location (a live one sends updates as edits, answered silently)."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or message.location is None:
            return
        if message.chat.type != ChatType.PRIVATE:
            return
        live = "live" if update.edited_message is not None else ""
        action = location_action(message.location.latitude, message.location.longitude, live)
        base = base_inbound(user.id, user.first_name, user.language_code)
        await self._answer(message, replace(base, action=action))

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
            await answer_quietly(query, t(lang, "common.stale_button"))
            return
        inbound = replace(
            base_inbound(user.id, user.first_name, user.language_code), action=query.data
        )
        work = asyncio.ensure_future(self.dialogue.handle(inbound))
        done, _ = await asyncio.wait({work}, timeout=CALLBACK_ANSWER_WITHIN_S)
        if not done:
            await answer_quietly(query)
        replies = await work
        stale = t("sv", "common.stale_button"), t("en", "common.stale_button")
        if work in done and len(replies) == 1 and replies[0].text in stale:
            await answer_quietly(query, replies[0].text)
            return
        if work in done:
            await answer_quietly(query)
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
                edited = await edit_in_place(message, reply)
                if edited:
                    continue
            if message is not None:
                await self._send_reply(message.chat.id, reply)

    async def _send_reply(self, chat_id: int, reply: Outgoing) -> None:
        bot = self.application.bot
        document = reply.document
        if document is not None:
            await persist(
                lambda: bot.send_document(
                    chat_id,
                    document.content,
                    filename=document.filename,
                    caption=reply.text[:1024] or None,
                )
            )
            return
        await persist(lambda: send_unread(bot, chat_id, reply))

    async def _language_of(self, telegram_id: int, hint: str | None) -> str:
        person = await directory.find_by_telegram_id(self.ctx, telegram_id)
        return pick_language(person.language if person is not None else None, hint=hint)

