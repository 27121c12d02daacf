"""``POST /telegram/webhook``: Telegram's updates in webhook mode (``docs/interface.md``, HTTP).

The secret header must match (else 403 and nothing is processed, the body unread); the body is
read as a bounded stream (``webhook_body``: over 1 MB is 413 whatever the transfer encoding); a
malformed body is 400; anything else is answered 200 at once and handed to the application,
each ``update_id`` once.
"""

from __future__ import annotations

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Update

from bot.channels.telegram import TelegramChannel
from bot.channels.webhook_body import BodyRefused, bounded_body
from scheduling.common.context import Context
from scheduling.messages.inbound_seen import first_time

log = logging.getLogger("vandra.telegram")
MAX_BODY = 1_000_000
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_routes(ctx: Context, channel: TelegramChannel) -> list[BaseRoute]:
    secret = ctx.settings.telegram.webhook_secret
    expected = secret.get_secret_value().encode() if secret else None

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if expected is None or not hmac.compare_digest(given, expected):
            return Response(status_code=403)
        try:
            body = await bounded_body(request, MAX_BODY)
        except BodyRefused as refused:
            return Response(status_code=refused.status)
        update = _parse(body, channel)
        if update is None:
            return Response(status_code=400)
        if await first_time(ctx, "telegram", str(update.update_id)):
            await channel.feed(update)
        return Response(status_code=200)

    return [Route("/telegram/webhook", receive, methods=["POST"])]


def _parse(body: bytes, channel: TelegramChannel) -> Update | None:
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        return Update.de_json(data, channel.application.bot)
    except Exception:
        log.warning("malformed webhook body rejected")
        return None
