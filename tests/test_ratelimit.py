"""The rate limiters, on fake time: pacing, bursts, pauses, and one slot per chat."""

from __future__ import annotations

import asyncio
import itertools

from scheduling.workers.ratelimit import PacedBucket, PerKeyLimiter


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


class LateTime(Time):
    """Fake time whose sleeps overshoot, like an event loop that wakes a waiter late."""

    def __init__(self, lateness: list[float]) -> None:
        super().__init__()
        self.lateness = lateness
        self.sleeps = 0

    async def sleep(self, seconds: float) -> None:
        late = self.lateness[self.sleeps % len(self.lateness)]
        self.sleeps += 1
        await super().sleep(seconds + late)


async def test_late_wake_ups_do_not_lower_the_rate() -> None:
    """Each wake-up 1 ms late at 100/s: 201 acquisitions still take 2 s (plus the last one's
    lateness), not 2.2 s, and none comes before its slot."""
    time = LateTime([0.001])
    bucket = PacedBucket(100.0, clock=time.monotonic, sleep=time.sleep)
    start = time.now
    times: list[float] = []

    async def take() -> None:
        await bucket.acquire()
        times.append(time.now)

    await asyncio.gather(*(take() for _ in range(201)))
    assert abs(times[-1] - (start + 2.0 + 0.001)) < 1e-6
    assert all(at >= start + k * 0.01 - 1e-9 for k, at in enumerate(times))


async def test_a_long_stall_is_not_made_up_with_a_burst() -> None:
    """One wake-up a whole second late: later slots count from then, one interval apart."""
    time = LateTime([0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    bucket = PacedBucket(10.0, clock=time.monotonic, sleep=time.sleep)
    times: list[float] = []

    async def take() -> None:
        await bucket.acquire()
        times.append(time.now)

    await asyncio.gather(*(take() for _ in range(6)))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[1] > 1.0  # the stalled one
    assert all(gap >= 0.1 - 1e-9 for gap in gaps[2:])  # then the rate again, no catching up


async def test_an_idle_caller_starts_from_now() -> None:
    """After an idle spell the next acquisition is immediate and the one after waits a full
    interval (idle time is not banked)."""
    time = Time()
    bucket = PacedBucket(4.0, clock=time.monotonic, sleep=time.sleep)
    await bucket.acquire()
    time.now += 10.0
    await bucket.acquire()
    assert time.now == 110.0
    await bucket.acquire()
    assert abs(time.now - 110.25) < 1e-9


class MicrosecondTime(Time):
    """Fake time on a microsecond grid at a present-day epoch (like ManualClock timestamps)."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1_795_000_000.0

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)
        self.now = round(self.now + seconds, 6)


async def test_a_coarse_clock_cannot_leave_a_waiter_spinning() -> None:
    """The schedule is kept in floats; a clock that cannot sleep a fraction of a microsecond
    still lets every waiter through, on time."""
    time = MicrosecondTime()
    bucket = PacedBucket(1000.0, clock=time.monotonic, sleep=time.sleep)
    start = time.now
    async with asyncio.timeout(5):
        await asyncio.gather(*(bucket.acquire() for _ in range(500)))
    assert abs(time.now - (start + 0.499)) < 1e-4  # float steps near 1.8e9: ~0.1 µs each
