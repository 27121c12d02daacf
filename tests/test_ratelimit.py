"""The rate limiters, on fake time: pacing, bursts, pauses, and one slot per chat."""

from __future__ import annotations

import asyncio

from scheduling.ratelimit import PacedBucket, PerKeyLimiter


class Time:
    """Fake monotonic time; sleeping moves it to the sleeper's wake-up time."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        target = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, target)


async def test_paced_bucket_spaces_acquisitions_at_the_rate() -> None:
    """Ten acquisitions at 5 a second take 1.8 s (the first is immediate), in arrival order."""
    time = Time()
    bucket = PacedBucket(5.0, clock=time.monotonic, sleep=time.sleep)
    order: list[int] = []

    async def take(n: int) -> None:
        await bucket.acquire()
        order.append(n)

    await asyncio.gather(*(take(n) for n in range(10)))
    assert order == list(range(10))
    assert abs(time.now - 101.8) < 1e-9


async def test_burst_then_pace() -> None:
    """A burst of 3 goes at once; the fourth waits one interval."""
    time = Time()
    bucket = PacedBucket(2.0, burst=3, clock=time.monotonic, sleep=time.sleep)
    for _ in range(3):
        await bucket.acquire()
    assert time.now == 100.0
    await bucket.acquire()
    assert abs(time.now - 100.5) < 1e-9


async def test_pause_holds_everyone_back() -> None:
    """After pause(7) nothing passes for seven seconds."""
    time = Time()
    bucket = PacedBucket(10.0, clock=time.monotonic, sleep=time.sleep)
    await bucket.acquire()
    bucket.pause(7)
    await bucket.acquire()
    assert time.now >= 107.0


async def test_per_key_limiter_spaces_one_chat_and_not_the_others() -> None:
    """Two messages to one chat are a second apart; another chat is not held up."""
    time = Time()
    chats = PerKeyLimiter(1.0, clock=time.monotonic, sleep=time.sleep)
    await chats.acquire("a")
    await chats.acquire("b")
    assert time.now == 100.0
    await chats.acquire("a")
    assert time.now == 101.0
