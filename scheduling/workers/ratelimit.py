"""Rate limits for sending: a paced bucket per channel and a slot per chat, without busy waits.

``PacedBucket`` lets at most ``rate`` acquisitions a second through (bursts up to ``burst``),
in arrival order; each waiter sleeps until its own slot. ``pause(seconds)`` holds everyone
back when the provider said so (Telegram's RetryAfter). ``PerKeyLimiter`` spaces acquisitions
for one key (a Telegram chat: one message a second). Time and sleep are injectable for tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
# A slot this close counts as come: the schedule is kept in floats, and a clock that ticks in
# microseconds (or a float timestamp near 1.8e9) cannot sleep the last fraction of one.
RESOLUTION = 1e-6


class PacedBucket:
    """At most ``rate`` per second on average; the first ``burst`` may go at once."""

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1.0) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._next = clock()  # the theoretical time of the next slot
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for the next slot (first come, first served).

        A waiter that queued or slept for its slot takes that slot, not the moment the event
        loop happened to wake it: otherwise every wake-up delay (typically 0.5-1 ms) would
        push all later slots back, and at 25/s the channel would run 2-3 % below its rate (8-10
        % at 100/s). Lateness up to one interval is forgiven this way; a longer stall is not
        made up (no burst afterwards), and a caller that finds the bucket idle starts from now.
        Either way the k-th acquisition of a busy stretch never comes before its slot.
        """
        waited = self._lock.locked()  # queued behind others: part of a busy stretch
        async with self._lock:
            while True:
                now = self._clock()
                ready_at = max(self._next - self._tolerance, self._paused_until)
                if ready_at <= now + RESOLUTION:
                    late = max(0.0, now - ready_at)
                    taken = ready_at if waited and late < self._interval else now
                    self._next = max(self._next, taken) + self._interval
                    return
                await self._sleep(ready_at - now)
                waited = True

    def pause(self, seconds: float) -> None:
        """Let nothing through for ``seconds`` (the provider asked us to wait)."""
        until = self._clock() + max(0.0, seconds)
        self._paused_until = max(self._paused_until, until)
        self._next = max(self._next, self._paused_until + self._tolerance)


class PerKeyLimiter:
    """At most ``rate`` per second for each key; keys idle for a while are forgotten."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        forget_after: float = 60.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._forget_after = forget_after
        self._next: dict[Hashable, float] = {}

    async def acquire(self, key: Hashable) -> None:
        """Reserve this key's next slot and sleep until it comes."""
        now = self._clock()
        slot = max(now, self._next.get(key, now))
        self._next[key] = slot + self._interval
        if len(self._next) > 1000:
            self._forget(now)
        if slot > now:
            await self._sleep(slot - now)

    def _forget(self, now: float) -> None:
        stale = [k for k, at in self._next.items() if at < now - self._forget_after]
        for key in stale:
            del self._next[key]

    def __len__(self) -> int:
        return len(self._next)
