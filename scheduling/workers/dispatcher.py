"""The dispatcher: claims due outbox rows, sends each through its person's channel, records it.

Sending guarantees (docs/delivery.md): never a loss; SMS exactly once, also across crashes
and provider time-outs; Telegram at most once more for what was in flight at a crash or
time-out (at most ``[dispatch] max_in_flight`` per crash).

- **Claim** (``claiming.py``). In one short transaction a batch of due rows routed to one
  channel is selected — on PostgreSQL ``FOR UPDATE SKIP LOCKED``; on SQLite the ``BEGIN
  IMMEDIATE`` transaction serialises claims — and marked ``sending`` under a lease: a
  ``claim_token`` of its own and ``lease_until``, renewed while the batch is sent.
- **Send** (``sending.py``), at most ``max_in_flight`` at once per channel: settle an earlier
  attempt of unknown outcome by asking the provider (SMS), write the attempt's marker, wait for
  the rate limiters (``limits.py``), hand it to the ``Sender``, record the outcome under the
  claim's token (``outcomes.py``): a claim taken over after its lease ran out is not written.
- **Crash** (``reclaim.py``). A row whose lease ran out is pending again; its marker says an
  attempt was in flight, which the next claimer settles before sending again.
- **Database down** after a claim: an outcome is kept in memory and written once the database
  answers again; no new send starts (its marker cannot be written).
- **Retry.** ``TransientSendError``: again after 5 s, doubling up to 10 min (or after the
  provider's ``retry_after``, which also pauses the channel) until the message expires (7 days
  for one that never does); an unexpected error in a channel fails it after ``[dispatch]
  max_attempts``. ``ChannelNotReady`` gives it back without counting an attempt.
- **Fall back.** ``PermanentSendError``: the person is marked unreachable on that channel and
  the row is pending again for the other one; with none left it is ``failed`` with
  ``unreachable``.
- **Alarms** (``express.py``): rows of ``Priority.ALARM`` are claimed first, and an express
  lane beside the batches sends them at once, so a broadcast queued ahead does not delay them.
- **Expire.** A row whose ``expires_at`` passed, or that no longer makes sense
  (``relevance.py``), is ``expired`` and never sent.

Channels without a configured ``Sender`` are left alone: their rows stay pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduling.common.context import Context
from scheduling.messages.content import Sender
from scheduling.messages.observing import OF_OUTCOME, UNOBSERVED, DeliveryObserver
from scheduling.workers.claiming import (
    Claim,
    Lease,
    claim_batch,
    expire_overdue,
    fail_unreachable,
)
from scheduling.workers.express import ExpressLane
from scheduling.workers.limits import ChannelLimits, Pacing, limits_from_settings
from scheduling.workers.outcomes import STORE_DOWN, Outcomes
from scheduling.workers.ratelimit import Monotonic, Sleep
from scheduling.workers.reclaim import new_token, reclaim_lapsed, renew, worker_identity
from scheduling.workers.sending import Renderer, SendOne

log = logging.getLogger("vandra.dispatch")

IDLE_POLL_S = 1.0


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    rerouted: int = 0
    failed: int = 0
    expired: int = 0
    released: int = 0
    lost: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class Dispatcher:
    ctx: Context
    senders: Mapping[str, Sender]
    renderer: Renderer
    worker_id: str = field(default_factory=worker_identity)
    lease: timedelta | None = None  # default: ``[dispatch] lease``
    limits: Mapping[str, ChannelLimits] | None = None
    batch_size: int | None = None  # default: BATCH_SECONDS of the channel's rate
    monotonic: Monotonic = time.monotonic  # the rate limiters' time (tests pass a fake)
    sleep: Sleep = asyncio.sleep
    observer: DeliveryObserver = UNOBSERVED  # counts what becomes of each message
    _pacing: Pacing = field(init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stopping: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        limits = self.limits or limits_from_settings(self.ctx.settings)
        dispatch = self.ctx.settings.dispatch
        self._pacing = Pacing.of(limits, self.monotonic, self.sleep, dispatch.max_in_flight)

    @property
    def _lease(self) -> timedelta:
        return self.lease or self.ctx.settings.dispatch.lease

    @property
    def _outcomes(self) -> Outcomes:
        return Outcomes(self.ctx, self.worker_id, self.observer)

    @property
    def outcomes(self) -> Outcomes:
        return self._outcomes

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def dispatch_once(self) -> DispatchReport:
        """Tidy the outbox, claim one batch per configured channel and send it."""
        report = DispatchReport()
        now = self.ctx.now()
        async with self.ctx.store.transaction() as session:
            await reclaim_lapsed(session, now, self.observer)
            report.expired += await expire_overdue(session, now, self.observer)
            report.failed += await fail_unreachable(session, now, observer=self.observer)
        claims: list[Claim] = []
        for channel in self.senders:
            claims += await self._claim(channel, now, report)
        report.claimed = len(claims)
        send = SendOne(self.ctx, self.senders, self.renderer, self._pacing, self._outcomes,
                       stopping=lambda: self._stopping, wake=self.wake)
        renewing = asyncio.create_task(self._renew({claim.token for claim in claims}))
        try:
            outcomes = await asyncio.gather(*(send(claim) for claim in claims))
        finally:
            renewing.cancel()
        for claim, outcome in zip(claims, outcomes, strict=True):
            report.add(outcome)
            if outcome in OF_OUTCOME:
                self.observer.delivery(OF_OUTCOME[outcome], claim.channel, claim.kind)
        return report

    async def _renew(self, tokens: set[str]) -> None:
        """Keep this pass's leases from running out while it sends (every third of a lease)."""
        while tokens:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            try:
                await renew(self.ctx, sorted(tokens), self._lease)
            except STORE_DOWN:
                log.warning("cannot renew the leases of this dispatcher's claims: the database "
                            "is unavailable")

    async def _claim(self, channel: str, now: datetime, report: DispatchReport) -> list[Claim]:
        size = self.batch_size if self.batch_size is not None else self._pacing.batch_size(channel)
        required = self.ctx.settings.walks.trained_walkers_per_shift
        lease = Lease(self.worker_id, new_token(), now + self._lease)
        async with self.ctx.store.transaction() as session:
            claims, expired = await claim_batch(
                session, now, channel, size, lease, required, self.observer
            )
        report.expired += expired
        return claims

    async def release_all(self) -> int:
        """Give back every claim of this dispatcher not yet sent (a clean stop)."""
        return await self._outcomes.release()

    def wake(self) -> None:
        """Look for due messages now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch until ``stop()``: batch after batch while there is work, else poll; the
        express lane (alarms) runs beside it."""
        lane = ExpressLane(self)
        express = asyncio.create_task(lane.run(), name="dispatch-express")
        try:
            await self._batches()
        finally:
            self._stopping = True
            lane.ring()
            await express

    async def _batches(self) -> None:
        while not self._stopping:
            try:
                report = await self.dispatch_once()
            except Exception:
                log.exception("dispatch pass failed; trying again")
                report = DispatchReport()
            if report.claimed == 0 and not self._stopping:
                await self._idle()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), IDLE_POLL_S)
        self._wake.clear()

    def stop(self) -> None:
        """Finish what is being sent, claim nothing more; unsent claims are given back."""
        self._stopping = True
        self._wake.set()
