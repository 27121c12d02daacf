"""Fake channels for the dispatcher: a Sender that records, and can fail on demand.

telegram = RecordingSender("telegram")
telegram.fail_next(TransientSendError("flood", retry_after=3), count=2)
telegram.block(person_id)          # PermanentSendError for this person from now on
...
telegram.assert_sent_once_each([1, 2, 3])
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Delivery, Outgoing, PermanentSendError, Recipient


@dataclass(frozen=True)
class SentMessage:
    recipient: Recipient
    message: Outgoing
    valid_until: datetime | None
    provider_message_id: str
    at: datetime | None = None


class RecordingSender:
    """Implements ``Sender``: records every message it accepts, fails as told."""

    def __init__(
        self, channel: str = "telegram", delay: float = 0.0, clock: ManualClock | None = None
    ) -> None:
        self.channel = channel
        self.clock = clock
        self.delay = delay
        self.sent: list[SentMessage] = []
        self.attempts = 0
        self._failures: deque[Exception] = deque()
        self._blocked: set[int] = set()
        self._block_reason = "blocked by the user"

    def fail_next(self, error: Exception, count: int = 1) -> None:
        """Raise ``error`` on the next ``count`` sends."""
        self._failures.extend([error] * count)

    def block(self, person_id: int, reason: str = "blocked by the user") -> None:
        """This person is unreachable on this channel from now on."""
        self._blocked.add(person_id)
        self._block_reason = reason

    async def send(
        self, recipient: Recipient, message: Outgoing, valid_until: datetime | None = None
    ) -> Delivery:
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._failures:
            raise self._failures.popleft()
        if recipient.person_id in self._blocked:
            raise PermanentSendError(self._block_reason)
        provider_id = f"{self.channel}-{len(self.sent) + 1}"
        at = self.clock.now() if self.clock else None
        self.sent.append(SentMessage(recipient, message, valid_until, provider_id, at))
        return Delivery(channel=self.channel, provider_message_id=provider_id, status="sent")

    def sent_to(self, person_id: int) -> list[Outgoing]:
        return [s.message for s in self.sent if s.recipient.person_id == person_id]

    def assert_sent_once_each(self, person_ids: list[int]) -> None:
        counts = Counter(s.recipient.person_id for s in self.sent)
        wrong = {p: counts.get(p, 0) for p in person_ids if counts.get(p, 0) != 1}
        assert not wrong, f"expected exactly one message each, got {wrong}"

    def assert_nothing_sent(self) -> None:
        assert not self.sent, f"expected nothing sent, got {[s.message.text for s in self.sent]}"


async def plain_renderer(
    kind: str, payload: dict[str, Any], recipient: Recipient, ctx: Context
) -> Outgoing:
    """A ``Renderer`` that needs no store: the kind and the payload's text."""
    return Outgoing(f"{kind}: {payload.get('text', '')}".strip())


class FakeTime:
    """Rate-limiter time on a ManualClock: ``sleep`` moves the clock instead of waiting."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        """Wake at now + seconds; sleepers side by side share the time they wait."""
        target = self.clock.now() + timedelta(seconds=seconds)
        self.slept += seconds
        await asyncio.sleep(0)
        if self.clock.now() < target:
            self.clock.set(target)
