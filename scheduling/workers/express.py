"""The express lane: alarms go out ahead of anything queued, even mid-broadcast.

The dispatcher sends a claimed batch (``BATCH_SECONDS`` of a channel's rate) before it claims
again, and its rate limiters serve in arrival order, so a row at the head of the outbox could
still wait a batch behind a 5,000-message broadcast. The express lane runs beside it: it claims
only rows of ``Priority.ALARM`` or more (the same claim, the same ``SendOne``), with rate
limiters of its own, so an alarm waits for neither the batch nor the broadcast's queue of slots;
each claimed row is sent by a task of its own, so one waiting for its slot (SMS at one a second)
holds up no other.
It wakes when a use case rings the store's doorbell (``scheduling/messages/doorbell.py``) and
polls every ``EXPRESS_POLL_S`` otherwise (rows queued by another process, or rung before their
transaction committed). Alarms are few: the provider's own limit has room for them (Telegram
allows about 30 a second; vandra's default pace is 25), and a 429 is honoured as for any
message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Protocol

from scheduling.common.context import Context
from scheduling.messages import doorbell
from scheduling.messages.content import Sender
from scheduling.messages.kinds import Priority
from scheduling.messages.observing import DeliveryObserver
from scheduling.workers.claiming import Claim, Lease, claim_batch
from scheduling.workers.limits import ChannelLimits, Pacing, limits_from_settings
from scheduling.workers.outcomes import Outcomes
from scheduling.workers.ratelimit import Monotonic, Sleep
from scheduling.workers.reclaim import new_token
from scheduling.workers.sending import Renderer, SendOne

log = logging.getLogger("vandra.dispatch")

EXPRESS_POLL_S = 0.5
EXPRESS_BATCH = 50
RUNG_RETRY_S = 0.05  # after a ring, look again this often for a while (the commit may lag)
RUNG_LOOKS = 20


class Dispatcher(Protocol):
    """What the lane uses of the dispatcher it runs beside (``dispatcher.py``)."""

    @property
    def ctx(self) -> Context: ...

    @property
    def senders(self) -> Mapping[str, Sender]: ...

    @property
    def renderer(self) -> Renderer: ...

    @property
    def worker_id(self) -> str: ...

    @property
    def observer(self) -> DeliveryObserver: ...

    @property
    def limits(self) -> Mapping[str, ChannelLimits] | None: ...

    @property
    def monotonic(self) -> Monotonic: ...

    @property
    def sleep(self) -> Sleep: ...

    @property
    def outcomes(self) -> Outcomes: ...

    @property
    def stopping(self) -> bool: ...


class ExpressLane:
    """Claims and sends alarm rows for one dispatcher until it stops."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        limits = dispatcher.limits or limits_from_settings(dispatcher.ctx.settings)
        self.pacing = Pacing.of(limits, dispatcher.monotonic, dispatcher.sleep)
        self._wake = asyncio.Event()
        self._rung = 0
        self._sending: set[asyncio.Task[str]] = set()

    def ring(self) -> None:
        self._rung = RUNG_LOOKS
        self._wake.set()

    async def run(self) -> None:
        """Until the dispatcher stops: send what is there, then wait for the bell or a poll."""
        stop_listening = doorbell.listen(self.dispatcher.ctx.store, self.ring)
        try:
            while not self.dispatcher.stopping:
                try:
                    claimed = await self.pass_once()
                except Exception:
                    log.exception("express pass failed; trying again")
                    claimed = 0
                if claimed == 0:
                    await self._idle()
        finally:
            stop_listening()
            await self.drain()

    async def _idle(self) -> None:
        timeout = RUNG_RETRY_S if self._rung > 0 else EXPRESS_POLL_S
        self._rung = max(0, self._rung - 1)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def drain(self) -> None:
        """Wait for every send under way."""
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    async def pass_once(self) -> int:
        """Claim the alarm rows due now, on every channel, and start sending each (a send that
        waits for its slot holds up no other); how many were claimed."""
        d = self.dispatcher
        now = d.ctx.now()
        required = d.ctx.settings.walks.trained_walkers_per_shift
        claims: list[Claim] = []
        lease = Lease(d.worker_id, new_token(), now + d.ctx.settings.dispatch.lease)
        for channel in d.senders:
            async with d.ctx.store.transaction() as session:
                found, _ = await claim_batch(
                    session, now, channel, EXPRESS_BATCH, lease, required,
                    d.observer, min_priority=Priority.ALARM,
                )
            claims += found
        if claims:
            send = SendOne(d.ctx, d.senders, d.renderer, self.pacing, d.outcomes,
                           stopping=lambda: d.stopping, wake=self.ring)
            for claim in claims:
                task = asyncio.create_task(send(claim), name=f"express-{claim.message_id}")
                self._sending.add(task)
                task.add_done_callback(self._done)
        return len(claims)

    def _done(self, task: asyncio.Task[str]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("express send failed", exc_info=task.exception())
