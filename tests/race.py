"""A gate that makes racing tasks really collide, for the tests that prove a lock holds.

Each racer calls ``arrive()`` at the point where the race is decided (after taking the lock,
before reading what it decides on). The gate opens when every racer has arrived, or after
``timeout``: with the lock in place only its holder gets there, waits out the timeout and
goes on, the others following one by one; without it they all arrive and read at once, so a
missing lock fails the test every time instead of by luck.
"""

from __future__ import annotations

import asyncio
import contextlib


class Gate:
    def __init__(self, racers: int, timeout: float = 1.0) -> None:
        self.racers = racers
        self.timeout = timeout
        self.arrived = 0
        self._open = asyncio.Event()

    async def arrive(self) -> None:
        """Wait here until all racers have arrived or the timeout passed; then never again."""
        self.arrived += 1
        if self.arrived >= self.racers:
            self._open.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._open.wait(), self.timeout)
        self._open.set()
