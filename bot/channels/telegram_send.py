"""Sending in Telegram: replies with their keyboards, edits in place, riding out a short
outage of the Bot API; and ``TelegramSender``, which delivers outbox messages for the
dispatcher and maps Telegram's errors to retry or give up.

A reply to an update is retried when the Bot API is briefly unwell (a 5xx, a refused
connection) or asks to wait a little (429 with a short ``retry_after``); a timeout is not
retried, since the message may have arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application

from scheduling.messages.content import (
    ChannelNotReady,
    Delivery,
    Outgoing,
    PermanentSendError,
    Recipient,
    TransientSendError,
)

log = logging.getLogger("vandra.telegram")

REPLY_ATTEMPTS = 3
REPLY_MAX_WAIT_S = 5.0  # a reply is worth waiting this long for; a longer 429 gives up
T = TypeVar("T")
# No link previews: a preview fetch would use up a one-time dashboard link, and calendar and
# dashboard links are private.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
MAX_TEXT = 4096


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


async def edit_in_place(message: Message, reply: Outgoing) -> bool:
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


async def send_unread(bot: Bot, chat_id: int, reply: Outgoing) -> None:
    """``sendMessage`` with a reply's text and keyboard, its answer not read into a ``Message``.

    The same request as ``bot.send_message(chat_id, text, reply_markup=markup(reply),
    link_preview_options=NO_PREVIEW)``, through the bot's own request path (``Bot._post``:
    defaults inserted, empty parameters dropped, Telegram's errors raised as the same
    exceptions), but without building a ``Message`` from the answer, which no reply to an
    update uses: for a shift card with its buttons that cost 0.11 ms of CPU, about as much as
    the rest of the call (measured with ``bench/updates.py``, see bench/README.md). The
    inline keyboard and the preview option go as the JSON python-telegram-bot would make of
    them (``_inline_keyboard``), without building its objects for every reply."""
    data: dict[str, object] = {
        "chat_id": chat_id,
        "text": reply.text[:MAX_TEXT],
        "link_preview_options": _NO_PREVIEW_JSON,
        "reply_markup": markup(reply) if reply.request_contact else _inline_keyboard(reply),
    }
    await bot._post("sendMessage", data)


_NO_PREVIEW_JSON = json.dumps(NO_PREVIEW.to_dict())


def _inline_keyboard(reply: Outgoing) -> str | None:
    """``markup(reply)`` of a reply without a contact request, as the JSON text
    python-telegram-bot sends for it (the same keys in the same order)."""
    if not reply.options:
        return None
    rows = [[{"callback_data": o.action, "text": o.label[:120]}] for o in reply.options]
    return json.dumps({"inline_keyboard": rows})


async def persist(call: Callable[[], Awaitable[T]]) -> T:
    """Make a Bot API call for a reply, riding out a short outage: a 5xx or a refused
    connection is retried, a 429 waited out when it asks for at most ``REPLY_MAX_WAIT_S``, up
    to ``REPLY_ATTEMPTS`` in all. A timeout is raised at once: the message may have arrived,
    and saying it twice is worse than the error being logged. A 400 (BadRequest, which
    python-telegram-bot counts as a NetworkError) or 403 is raised at once too: the same
    request would be refused again."""
    for attempt in range(1, REPLY_ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            if attempt == REPLY_ATTEMPTS or wait > REPLY_MAX_WAIT_S:
                raise
            log.warning("telegram asks to wait %.0f s before the reply", wait)
            await asyncio.sleep(wait)
        except (TimedOut, BadRequest):
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


async def answer_quietly(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press; an answer that comes too late is not an error worth raising."""
    with contextlib.suppress(TelegramError):
        await query.answer(text=text[:200] if text else None)



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

