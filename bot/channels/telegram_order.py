"""The order in which Telegram updates are handled: each person's in turn, people side by side."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates of different people are handled concurrently, at most this many at once (each one
# mostly waits for the database or the Bot API); one person's updates strictly in order.
CONCURRENT_UPDATES = 32
# Updates taken in at once, running or waiting for their person's earlier update; more wait
# in line (in arrival order) for python-telegram-bot's own limit.
ACCEPTED_UPDATES = 4096


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

