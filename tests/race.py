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
from typing import Any

import pytest


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


def gate_the_seat_count(monkeypatch: pytest.MonkeyPatch, racers: int) -> Gate:
    """Make ``racers`` sign-ups meet at the gate after taking the shift's lock, before they
    count its seats (``signups._signups_and_clashes``)."""
    from scheduling.walks import signups

    gate = Gate(racers)
    count_seats = signups._signups_and_clashes

    async def at_the_gate(session: Any, shift: Any, person_id: int) -> Any:
        await gate.arrive()
        return await count_seats(session, shift, person_id)

    monkeypatch.setattr(signups, "_signups_and_clashes", at_the_gate)
    return gate
