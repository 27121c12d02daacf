"""Claims are leases: an outcome is recorded only under the claim's own token, a send in
flight is bounded by ``[dispatch] max_in_flight``, and what a crash left in doubt is settled
before it goes again (docs/delivery.md)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from datetime import datetime, timedelta

import pytest

from models.db import Store
from scheduling.common.clock import ManualClock
from scheduling.common.config import DispatchSettings
from scheduling.common.context import Context
from scheduling.messages.content import (
    ChannelNotReady,
    Delivery,
    Outgoing,
    Recipient,
    TransientSendError,
)
from tests.fakes.senders import RecordingSender
from tests.test_dispatch import dispatcher, queue
from tests.world import outbox, person


class GatedSender(RecordingSender):
    """Holds every send until ``gate`` opens; then a time-out (``times_out``), else sent."""

    def __init__(self, times_out: bool) -> None:
        super().__init__("telegram")
        self.times_out = times_out
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def send(
        self, recipient: Recipient, message: Outgoing, valid_until: datetime | None = None
    ) -> Delivery:
        self.entered.set()
        await self.gate.wait()
        self.gate.clear()
        if self.times_out:
            self.attempts += 1
            raise TransientSendError("telegram: TimedOut", uncertain=True)
        return await super().send(recipient, message, valid_until)


async def test_a_lapsed_claim_taken_over_is_not_overwritten_by_its_old_holder(
    ctx: Context, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A's send hangs past its lease; B takes the row over and is sending it when A's late
    time-out comes back. A's outcome is not recorded (its token no longer stands), B's is: the
    row is sent once, with B's provider id, and never goes out again."""
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0)
    stuck, taker = GatedSender(times_out=True), GatedSender(times_out=False)
    other_store = Store.open(ctx.settings.database.url)
    other = dataclasses.replace(ctx, store=other_store)
    first, second = dispatcher(ctx, clock, stuck), dispatcher(other, clock, taker)
    try:
        hanging = asyncio.create_task(first.dispatch_once())
        await asyncio.wait_for(stuck.entered.wait(), 10)
        clock.advance(timedelta(seconds=31))  # A's lease ran out (A did not renew in time)
        taking_over = asyncio.create_task(second.dispatch_once())
        await asyncio.wait_for(taker.entered.wait(), 10)
        with caplog.at_level(logging.WARNING, "vandra.dispatch"):
            stuck.gate.set()  # A's time-out comes back while B is sending
            late = await hanging
        taker.gate.set()
        assert (await taking_over).sent == 1
        for _ in range(3):
            clock.advance(timedelta(minutes=10))
            taker.gate.set()
            await second.dispatch_once()
    finally:
        await other_store.close()
    taker.assert_sent_once_each([walker.id or 0])
    (row,) = await outbox(ctx)
    assert (row.status, row.provider_message_id) == ("sent", "telegram-1")
    assert late.lost == 1 and "its claim is no longer ours" in caplog.text


class SlowSender(RecordingSender):
    """Counts the sends in flight at once. The first sends wait until ``full`` of them are in
    flight together, then hold on for ``hold`` seconds (room for one more, were the bound not
    kept); the rest take ``delay`` each."""

    def __init__(self, delay: float, full: int, hold: float) -> None:
        super().__init__("telegram", delay=delay)
        self.full, self.hold = full, hold
        self.now_in_flight = 0
        self.most_in_flight = 0
        self.filled = asyncio.Event()

    async def send(
        self, recipient: Recipient, message: Outgoing, valid_until: datetime | None = None
    ) -> Delivery:
        self.now_in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.now_in_flight)
        if self.now_in_flight >= self.full:
            self.filled.set()
        try:
            await self._first_wave()
            return await super().send(recipient, message, valid_until)
        finally:
            self.now_in_flight -= 1

    async def _first_wave(self) -> None:
        if self.hold <= 0:
            return
        with contextlib.suppress(TimeoutError):  # fewer got in: most_in_flight tells
            await asyncio.wait_for(self.filled.wait(), 10)
        await asyncio.sleep(self.hold)
        self.hold = 0  # once: the first wave alone waits


async def test_at_most_max_in_flight_sends_at_once_however_big_the_batch(
    ctx: Context, clock: ManualClock
) -> None:
    """A batch of 40 claimed at once is not sent at once: at most ``max_in_flight`` (3 here)
    sends are in flight together. The first sends wait for each other until three are in
    flight (so the bound is reached however slowly the database answers), then half a second
    more, in which a fourth would get in were the bound not kept."""
    ctx = dataclasses.replace(
        ctx, settings=ctx.settings.model_copy(
            update={"dispatch": DispatchSettings(max_in_flight=3)}
        ),
    )
    people = [await person(ctx, f"P{n}", telegram_id=100 + n) for n in range(40)]
    for walker in people:
        await queue(ctx, walker.id or 0, f"k:{walker.id}")
    slow = SlowSender(delay=0.01, full=3, hold=0.5)
    report = await dispatcher(ctx, clock, slow, batch_size=40).dispatch_once()
    assert (report.claimed, report.sent) == (40, 40)
    assert slow.most_in_flight == 3


async def test_a_channel_not_started_consumes_no_attempt(
    ctx: Context, clock: ManualClock
) -> None:
    """The channel is still starting: the message goes back unsent, no attempt counted, and
    goes out once the channel runs."""
    telegram = RecordingSender("telegram")
    telegram.fail_next(ChannelNotReady("the Telegram channel is not running yet"), count=3)
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0)
    worker = dispatcher(ctx, clock, telegram)
    for _ in range(4):
        await worker.dispatch_once()
        (row,) = await outbox(ctx)
        assert row.attempts == (1 if row.status == "sent" else 0)
        clock.advance(timedelta(seconds=2))
    telegram.assert_sent_once_each([walker.id or 0])


async def test_a_telegram_time_out_sends_the_message_once_more_and_no_more(
    ctx: Context, clock: ManualClock
) -> None:
    """A time-out after sending (outcome unknown) is retried once; the row notes the doubt."""
    telegram = RecordingSender("telegram")
    telegram.fail_next(TransientSendError("telegram: TimedOut", uncertain=True))
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0)
    worker = dispatcher(ctx, clock, telegram)
    await worker.dispatch_once()
    (row,) = await outbox(ctx)
    assert row.status == "pending" and (row.last_error or "").startswith("outcome unknown")
    assert row.attempt_started_at is not None
    clock.advance(timedelta(seconds=5))
    await worker.dispatch_once()
    (row,) = await outbox(ctx)
    assert (row.status, row.attempts, row.attempt_started_at) == ("sent", 2, None)
    assert telegram.attempts == 2
