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
from sqlmodel import col

from models.tables import OutboxMessage, OutboxStatus, Person
from scheduling.common.context import Context
from scheduling.messages.content import PermanentSendError
from scheduling.messages.observing import DUPLICATE_SUSPECTED, UNOBSERVED, DeliveryObserver
from scheduling.messages.routing import SMS, TELEGRAM
from scheduling.workers.claiming import Claim, short

log = logging.getLogger("vandra.dispatch")

BACKOFF_FIRST = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=10)
# The database cannot be reached, or the connection broke (psycopg's connection errors;
# SQLite's "database is locked"): worth trying the same write again later.
STORE_DOWN = (OperationalError, InterfaceError)
STORE_RETRY_FIRST_S = 0.5
STORE_RETRY_CAP_S = 5.0
T = TypeVar("T")


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 5 s, 10 s, 20 s, ... at most 10 min."""
    return min(BACKOFF_FIRST * 2 ** max(0, attempts - 1), BACKOFF_CAP)


def mark_unreachable(person: Person, channel: str, reason: str) -> None:
    """Record that ``channel`` will not reach this person (so routing stops choosing it)."""
    if channel == TELEGRAM:
        person.telegram_blocked = True
    elif channel == SMS and reason.startswith("opted_out"):
        person.sms_opted_out = True
    elif channel == SMS:
        person.sms_unreachable = True


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
    """The writes of one dispatcher (``worker_id``) on the rows it claimed."""

    ctx: Context
    worker_id: str
    observer: DeliveryObserver = UNOBSERVED

    async def sent(self, claim: Claim, channel: str, provider_id: str | None, status: str) -> None:
        async with self.ctx.store.transaction() as session:
            result = await session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == claim.message_id,
                    col(OutboxMessage.status).in_([OutboxStatus.SENDING, OutboxStatus.PENDING]),
                )
                .values(
                    status=OutboxStatus.SENT,
                    sent_at=self.ctx.now(),
                    channel=channel,
                    provider_message_id=provider_id,
                    delivery_status=status,
                    attempts=claim.attempts + 1,
                    last_error=None,
                )
            )
            if not result.rowcount:
                self.observer.delivery(DUPLICATE_SUSPECTED, channel, claim.kind)
                log.warning(
                    "outbox message %s was sent, but another process had already recorded it",
                    claim.message_id,
                )

    async def retry(self, claim: Claim, reason: str, retry_after: float | None) -> str:
        """Pending again after a back-off, or ``failed`` after ``[dispatch] max_attempts``."""
        now = self.ctx.now()
        attempts = claim.attempts + 1
        if attempts >= self.ctx.settings.dispatch.max_attempts:
            error = short(f"gave up after {attempts}: {reason}")
            await self._update_mine(
                claim, status=OutboxStatus.FAILED, attempts=attempts, last_error=error
            )
            return "failed"
        delay = timedelta(seconds=retry_after) if retry_after is not None else backoff(attempts)
        await self._update_mine(
            claim,
            status=OutboxStatus.PENDING,
            attempts=attempts,
            next_attempt_at=now + delay,
            claimed_by=None,
            last_error=short(reason),
        )
        return "retried"

    async def permanent(self, claim: Claim, exc: PermanentSendError) -> str:
        """The channel will not do: pending again for another channel (``rerouted``), or
        ``failed`` when the error is not about reaching the person."""
        reason = short(f"{claim.channel}: {exc.reason}")
        if not exc.unreachable:
            await self.failure(claim, reason)
            return "failed"
        async with self.ctx.store.transaction() as session:
            person = await session.get(Person, claim.recipient.person_id)
            if person is not None:
                mark_unreachable(person, claim.channel, exc.reason)
                session.add(person)
        await self._update_mine(
            claim,
            status=OutboxStatus.PENDING,
            attempts=claim.attempts + 1,
            claimed_by=None,
            next_attempt_at=None,
            last_error=reason,
        )
        return "rerouted"

    async def failure(self, claim: Claim, reason: str) -> None:
        await self._update_mine(
            claim, status=OutboxStatus.FAILED, attempts=claim.attempts + 1, last_error=short(reason)
        )

    async def release(self, message_ids: list[int] | None = None) -> int:
        """Give claims back unsent: those of ``message_ids``, or all of this dispatcher's."""
        mine = [
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            col(OutboxMessage.claimed_by) == self.worker_id,
        ]
        if message_ids is not None:
            mine.append(col(OutboxMessage.id).in_(message_ids))
        async with self.ctx.store.transaction() as session:
            result = await session.exec(
                update(OutboxMessage)
                .where(*mine)
                .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None)
            )
            return int(result.rowcount or 0)

    async def _update_mine(self, claim: Claim, **values: Any) -> None:
        async with self.ctx.store.transaction() as session:
            await session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == claim.message_id,
                    col(OutboxMessage.status) == OutboxStatus.SENDING,
                    col(OutboxMessage.claimed_by) == self.worker_id,
                )
                .values(**values)
            )
