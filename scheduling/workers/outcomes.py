"""Recording what happened to a claimed row: sent, retried, rerouted, failed or given back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import col, select

from models.tables import OutboxMessage, OutboxStatus, Person
from scheduling.common.context import Context
from scheduling.messages.content import Delivery, PermanentSendError
from scheduling.messages.observing import DUPLICATE_SUSPECTED, SENT, UNOBSERVED, DeliveryObserver
from scheduling.workers.claiming import Claim, short
from scheduling.workers.retry_policy import (
    NOT_READY_WAIT,
    backoff,
    give_up,
    mark_unreachable,
)

log = logging.getLogger("vandra.dispatch")

# The database cannot be reached, or the connection broke (psycopg's connection errors;
# SQLite's "database is locked"): worth trying the same write again later.
STORE_DOWN = (OperationalError, InterfaceError)
STORE_RETRY_FIRST_S = 0.5
STORE_RETRY_CAP_S = 5.0
T = TypeVar("T")
__all__ = ["STORE_DOWN", "Outcomes", "backoff", "until_stored"]


async def until_stored(claim: Claim, record: Callable[[], Awaitable[T]]) -> T:
    """Write a claimed row's outcome with ``record``, again and again while the database is
    unavailable (a restart, a network fault): the outcome is kept here meanwhile, and the row
    stays claimed by this dispatcher, so that a message which went out is recorded as sent
    instead of being sent again once the claim's lease ran out."""
    delay = STORE_RETRY_FIRST_S
    failures = 0
    while True:
        try:
            result = await record()
        except STORE_DOWN as exc:
            failures += 1
            log.log(
                logging.WARNING if failures == 1 else logging.DEBUG,
                "cannot record what happened to outbox message %s, the database is "
                "unavailable (%s); keeping it and trying again",
                claim.message_id,
                type(exc.orig).__name__,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, STORE_RETRY_CAP_S)
            continue
        if failures:
            log.info("outbox message %s recorded after %d failed tries",
                     claim.message_id, failures)
        return result


@dataclass(frozen=True)
class Outcomes:
    """The writes of one dispatcher (``worker_id``) on the rows it claimed. Each is recorded
    only while the claim's token still stands (``UPDATE ... WHERE claim_token = mine``): a
    claim whose lease ran out and was taken over is not overwritten, and that is logged."""

    ctx: Context
    worker_id: str
    observer: DeliveryObserver = UNOBSERVED

    async def begin(self, claim: Claim) -> bool:
        """Record that an attempt starts now, before the provider sees it; False when the
        claim is no longer ours (then nothing may be sent)."""
        return await self._update_mine(claim, attempt_started_at=self.ctx.now())

    async def sent(
        self, claim: Claim, channel: str, provider_id: str | None, status: str,
        note: str | None = None,
    ) -> str:
        recorded = await self._update_mine(
            claim,
            status=OutboxStatus.SENT,
            sent_at=self.ctx.now(),
            channel=channel,
            provider_message_id=provider_id,
            delivery_status=status,
            attempts=claim.attempts + 1,
            last_error=note,
            attempt_started_at=None,
            claim_token=None,
            lease_until=None,
        )
        if not recorded:  # sent, but another process holds the row now and may send it again
            self.observer.delivery(SENT, channel, claim.kind)
            self.observer.delivery(DUPLICATE_SUSPECTED, channel, claim.kind)
        return "sent" if recorded else "lost"

    async def retry(
        self, claim: Claim, reason: str, retry_after: float | None, *,
        uncertain: bool = False, unexpected: bool = False,
    ) -> str:
        """Pending again after a back-off until the message expires (``give_up`` says when a
        message that never expires stops); an unexpected error (not the provider's) ``failed``
        after ``[dispatch] max_attempts``. ``uncertain``: the provider may have accepted it."""
        now = self.ctx.now()
        attempts = claim.attempts + 1
        verdict = give_up(claim, attempts, now, self.ctx.settings.dispatch.max_attempts, unexpected)
        if verdict is not None:
            return await self.failure(claim, f"{verdict}: {reason}")
        delay = timedelta(seconds=retry_after) if retry_after is not None else backoff(attempts)
        # Uncertain: the marker ``begin`` wrote stays, so the next attempt asks first.
        settled: dict[str, Any] = {} if uncertain else {"attempt_started_at": None}
        recorded = await self._update_mine(
            claim,
            **_pending(),
            **settled,
            attempts=attempts,
            next_attempt_at=now + delay,
            last_error=short(f"outcome unknown: {reason}" if uncertain else reason),
        )
        return "retried" if recorded else "lost"

    async def not_ready(self, claim: Claim, reason: str) -> str:
        """The channel has not started (or this process is stopping): back to the outbox,
        unsent, no attempt counted."""
        recorded = await self._update_mine(
            claim, **_pending(), next_attempt_at=self.ctx.now() + NOT_READY_WAIT,
            attempt_started_at=claim.in_doubt_since, last_error=short(reason),
        )
        return "released" if recorded else "lost"

    async def permanent(self, claim: Claim, exc: PermanentSendError) -> str:
        """The channel will not do: pending again for another channel (``rerouted``), or
        ``failed`` when the error is not about reaching the person."""
        reason = short(f"{claim.channel}: {exc.reason}")
        if not exc.unreachable:
            return await self.failure(claim, reason)
        async with self.ctx.store.transaction() as session:
            person = await session.get(Person, claim.recipient.person_id)
            if person is not None:
                mark_unreachable(person, claim.channel, exc.reason)
                session.add(person)
        recorded = await self._update_mine(
            claim, **_pending(), attempts=claim.attempts + 1, next_attempt_at=None,
            last_error=reason, attempt_started_at=None,
        )
        return "rerouted" if recorded else "lost"

    async def failure(self, claim: Claim, reason: str) -> str:
        recorded = await self._update_mine(
            claim, status=OutboxStatus.FAILED, attempts=claim.attempts + 1,
            last_error=short(reason), claim_token=None, lease_until=None,
            attempt_started_at=None,
        )
        return "failed" if recorded else "lost"

    async def unrecorded(self, found: list[Delivery]) -> list[Delivery]:
        """Those of ``found`` whose provider id no outbox row holds yet (a copy the provider
        accepted for another message with the same words is not this one's)."""
        ids = [d.provider_message_id for d in found if d.provider_message_id]
        if not ids:
            return []
        async with self.ctx.store.sessions() as session:
            known = set((await session.exec(
                select(OutboxMessage.provider_message_id)
                .where(col(OutboxMessage.provider_message_id).in_(ids))
            )).all())
        return [d for d in found if d.provider_message_id and d.provider_message_id not in known]

    async def release(self, message_ids: list[int] | None = None) -> int:
        """Give claims back unsent: those of ``message_ids``, or all of this dispatcher's. An
        attempt marker stays: what was in flight is settled by the next claimer."""
        mine = [
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            col(OutboxMessage.claimed_by) == self.worker_id,
        ]
        if message_ids is not None:
            mine.append(col(OutboxMessage.id).in_(message_ids))
        async with self.ctx.store.transaction() as session:
            result = await session.exec(update(OutboxMessage).where(*mine).values(**_pending()))
            return int(result.rowcount or 0)

    async def _update_mine(self, claim: Claim, **values: Any) -> bool:
        """Write ``values`` where the claim's token still stands; False (and a warning) if not."""
        async with self.ctx.store.transaction() as session:
            result = await session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == claim.message_id,
                    col(OutboxMessage.status) == OutboxStatus.SENDING,
                    col(OutboxMessage.claim_token) == claim.token,
                )
                .values(**values)
            )
        if result.rowcount:
            return True
        log.warning(
            "outbox message %s: not recorded (%s), its claim is no longer ours (the lease ran "
            "out and it was taken over)", claim.message_id, values.get("status", "attempt"),
        )
        return False


def _pending() -> dict[str, Any]:
    """The values that give a claimed row back to the outbox."""
    return {
        "status": OutboxStatus.PENDING, "claimed_by": None, "claimed_at": None,
        "claim_token": None, "lease_until": None,
    }
