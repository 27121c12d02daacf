"""A Telegram 400 is not retried: the same request would be refused again."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest, NetworkError

from bot.channels.telegram_send import REPLY_ATTEMPTS, persist


async def test_a_400_is_raised_at_once() -> None:
    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise BadRequest("Bad Request: message text is empty")

    with pytest.raises(BadRequest):
        await persist(refused)
    assert calls == 1


async def test_a_5xx_is_still_retried() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < REPLY_ATTEMPTS:
            raise NetworkError("Bad Gateway")
        return "ok"

    assert await persist(flaky) == "ok" and calls == REPLY_ATTEMPTS
