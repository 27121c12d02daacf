"""The dispatcher's rate limits: one paced bucket per channel, one slot per chat on Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from scheduling.common.config import Settings
from scheduling.messages.content import Recipient
from scheduling.messages.routing import SMS, TELEGRAM
from scheduling.workers.ratelimit import Monotonic, PacedBucket, PerKeyLimiter, Sleep

BATCH_SECONDS = 5.0  # a claimed batch is about this many seconds of the channel's rate


@dataclass(frozen=True)
class ChannelLimits:
    per_second: float
    per_chat_per_second: float | None = None


def limits_from_settings(settings: Settings) -> dict[str, ChannelLimits]:
    """``[telegram] max_messages_per_second`` and one a second per chat; ``[sms]`` likewise."""
    return {
        TELEGRAM: ChannelLimits(settings.telegram.max_messages_per_second, 1.0),
        SMS: ChannelLimits(settings.sms.max_messages_per_second),
    }


@dataclass
class Pacing:
    """The limiters of every channel, built from their ``ChannelLimits``."""

    buckets: dict[str, PacedBucket] = field(default_factory=dict)
    chats: dict[str, PerKeyLimiter] = field(default_factory=dict)
    max_in_flight: int = 8
    flights: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    turns: dict[str, asyncio.Lock] = field(default_factory=dict)

    @classmethod
    def of(
        cls, limits: Mapping[str, ChannelLimits], clock: Monotonic, sleep: Sleep,
        max_in_flight: int = 8,
    ) -> Pacing:
        pacing = cls(max_in_flight=max_in_flight)
        for channel, limit in limits.items():
            pacing.buckets[channel] = PacedBucket(limit.per_second, clock=clock, sleep=sleep)
            if limit.per_chat_per_second:
                pacing.chats[channel] = PerKeyLimiter(
                    limit.per_chat_per_second, clock=clock, sleep=sleep
                )
        return pacing

    def batch_size(self, channel: str) -> int:
        bucket = self.buckets.get(channel)
        return max(1, int(bucket.rate * BATCH_SECONDS)) if bucket else 10

    def in_flight(self, channel: str) -> asyncio.Semaphore:
        """Held from the attempt's marker to its recorded outcome: at most ``[dispatch]
        max_in_flight`` sends of a channel are in flight at once in this process."""
        if channel not in self.flights:
            self.flights[channel] = asyncio.Semaphore(self.max_in_flight)
        return self.flights[channel]

    def turn(self, channel: str) -> asyncio.Lock:
        """Held while an attempt's marker is written: sends then queue for their slots in the
        order they were claimed, whatever order the database answered in."""
        return self.turns.setdefault(channel, asyncio.Lock())

    async def wait_for_slot(self, channel: str, recipient: Recipient) -> None:
        chats = self.chats.get(channel)
        if chats is not None:
            await chats.acquire(recipient.telegram_id or recipient.phone)
        bucket = self.buckets.get(channel)
        if bucket is not None:
            await bucket.acquire()

    def pause(self, channel: str, seconds: float) -> None:
        """Hold the channel back (the provider asked for ``retry_after``)."""
        if channel in self.buckets:
            self.buckets[channel].pause(seconds)
