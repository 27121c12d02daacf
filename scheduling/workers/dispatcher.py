"""The dispatcher: claims due outbox rows, sends each through its person's channel, records it.

Delivery semantics (CONTRACT.md): exactly once, except that a process dying between the
provider accepting a message and the outbox recording it may cause one more send.

- **Claim.** In one short transaction a batch of due rows (pending, ``due_at`` and
  ``next_attempt_at`` passed, not expired) routed to one channel is selected — on PostgreSQL
  ``FOR UPDATE SKIP LOCKED``, so several processes take disjoint rows; on SQLite the
  ``BEGIN IMMEDIATE`` transaction serialises claims — and marked ``sending`` with
  ``claimed_by`` / ``claimed_at``. A batch is about ``BATCH_SECONDS`` of the channel's rate.
- **Send** through the channel's ``Sender`` after the rate limiters (per channel; per chat on
  Telegram), then record ``sent`` with ``sent_at``, ``channel`` and ``provider_message_id``.
- **Crash.** A row left ``sending`` by a dead process is pending again after ``LEASE``, or at
  once when the claim was made on this host by a process that no longer runs.
- **Database down** (PostgreSQL restarting, say) after a claim: sending goes on, and what
  happened to each claimed row is kept in memory and written as soon as the database answers
  again (tried every few seconds). A row sent but not yet recorded stays claimed meanwhile, so
  it is not sent again when the database is back. A row that could not even be rendered
  because the database was down goes back to the queue.
- **Retry.** ``TransientSendError``: again after 5 s, doubling up to 10 min (or after the
  provider's ``retry_after``, which also pauses the channel); after ``[dispatch]
  max_attempts`` attempts the row is ``failed``.
- **Fall back.** ``PermanentSendError``: the person is marked unreachable on that channel
  (``telegram_blocked``, ``sms_opted_out`` or ``sms_unreachable``) and the row goes back to
  the queue, where the routing rule picks the other channel; with none left it is ``failed``
  with ``unreachable``, which ``vandra outbox list --status failed`` shows the coordinator.
- **Expire.** A row whose ``expires_at`` passed, or that no longer makes sense
  (``relevance.py``), is ``expired`` and never sent.

Channels without a configured ``Sender`` are left alone: their rows stay pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import or_, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import OutboxMessage, OutboxStatus, Person
from scheduling.common.config import Settings
from scheduling.common.context import Context
from scheduling.messages.content import (
    Outgoing,
    PermanentSendError,
    Recipient,
    Sender,
    TransientSendError,
)
from scheduling.messages.relevance import stale_reason
from scheduling.messages.routing import SMS, TELEGRAM, route_is
from scheduling.workers.ratelimit import Monotonic, PacedBucket, PerKeyLimiter, Sleep

log = logging.getLogger("vandra.dispatch")

LEASE = timedelta(minutes=2)
BATCH_SECONDS = 5.0
BACKOFF_FIRST = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=10)
IDLE_POLL_S = 1.0
UNREACHABLE = "unreachable"
MAX_ERROR = 300
# The database cannot be reached, or the connection broke (psycopg's connection errors;
# SQLite's "database is locked"): worth trying the same write again later.
STORE_DOWN = (OperationalError, InterfaceError)
STORE_RETRY_FIRST_S = 0.5
STORE_RETRY_CAP_S = 5.0
T = TypeVar("T")


class Renderer(Protocol):
    """Turns a queued message into words for one person (``bot/notifications.py``)."""

    async def __call__(
        self, kind: str, payload: dict[str, Any], recipient: Recipient, ctx: Context
    ) -> Outgoing: ...


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


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 5 s, 10 s, 20 s, ... at most 10 min."""
    return min(BACKOFF_FIRST * 2 ** max(0, attempts - 1), BACKOFF_CAP)


_LIVE_WORKERS: set[str] = set()  # dispatchers of this process (several in tests)


def worker_identity() -> str:
    """``host:pid:token``: who holds a claim, and whether that process can still be alive."""
    identity = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
    _LIVE_WORKERS.add(identity)
    return identity


@dataclass(frozen=True)
class Claim:
    """One claimed row, with what sending it needs."""

    message_id: int
    kind: str
    payload: dict[str, Any]
    channel: str
    recipient: Recipient
    attempts: int
    expires_at: datetime | None


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    rerouted: int = 0
    failed: int = 0
    expired: int = 0
    released: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class Dispatcher:
    ctx: Context
    senders: Mapping[str, Sender]
    renderer: Renderer
    worker_id: str = field(default_factory=worker_identity)
    lease: timedelta = LEASE
    limits: Mapping[str, ChannelLimits] | None = None
    batch_size: int | None = None  # default: BATCH_SECONDS of the channel's rate
    monotonic: Monotonic = time.monotonic  # the rate limiters' time (tests pass a fake)
    sleep: Sleep = asyncio.sleep
    _buckets: dict[str, PacedBucket] = field(default_factory=dict, init=False)
    _chats: dict[str, PerKeyLimiter] = field(default_factory=dict, init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stopping: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        limits = self.limits or limits_from_settings(self.ctx.settings)
        for channel, limit in limits.items():
            self._buckets[channel] = PacedBucket(
                limit.per_second, clock=self.monotonic, sleep=self.sleep
            )
            if limit.per_chat_per_second:
                self._chats[channel] = PerKeyLimiter(
                    limit.per_chat_per_second, clock=self.monotonic, sleep=self.sleep
                )

    # --- one pass ---------------------------------------------------------------------------

    async def dispatch_once(self) -> DispatchReport:
        """Tidy the queue, claim one batch per configured channel and send it."""
        report = DispatchReport()
        now = self.ctx.now()
        async with self.ctx.store.transaction() as session:
            await reclaim_stale(session, now, self.lease, self.worker_id)
            report.expired += await expire_overdue(session, now)
            report.failed += await fail_unreachable(session, now)
        claims: list[Claim] = []
        for channel in self.senders:
            claims += await self._claim(channel, now, report)
        report.claimed = len(claims)
        outcomes = await asyncio.gather(*(self._deliver(claim) for claim in claims))
        for outcome in outcomes:
            report.add(outcome)
        return report

    def _batch_size(self, channel: str) -> int:
        if self.batch_size is not None:
            return self.batch_size
        bucket = self._buckets.get(channel)
        return max(1, int(bucket.rate * BATCH_SECONDS)) if bucket else 10

    async def _claim(self, channel: str, now: datetime, report: DispatchReport) -> list[Claim]:
        required = self.ctx.settings.walks.trained_walkers_per_shift
        async with self.ctx.store.transaction() as session:
            rows = await _due_rows(session, now, channel, self._batch_size(channel))
            claims = []
            for message, person in rows:
                reason = await stale_reason(session, message, now, required)
                if reason is not None:
                    _finish(message, OutboxStatus.EXPIRED, f"not sent: {reason}")
                    report.expired += 1
                else:
                    message.status, message.channel = OutboxStatus.SENDING, channel
                    message.claimed_by, message.claimed_at = self.worker_id, now
                    claims.append(_claim_of(message, person, channel))
                session.add(message)
            return claims

    async def _deliver(self, claim: Claim) -> str:
        """Send one claimed message and record what happened; the outcome's name."""
        sender = self.senders[claim.channel]
        try:
            outgoing = await self.renderer(claim.kind, claim.payload, claim.recipient, self.ctx)
        except STORE_DOWN as exc:  # not the message's fault: back to the queue
            log.warning("cannot render outbox message %s, the database is unavailable (%s); "
                        "it goes back to the queue", claim.message_id, type(exc.orig).__name__)
            await self._until_stored(claim, lambda: self._release([claim.message_id]))
            return "released"
        except Exception as exc:
            log.exception("cannot render outbox message %s", claim.message_id)
            reason = f"render: {type(exc).__name__}: {exc}"
            await self._until_stored(claim, lambda: self._record_failure(claim, reason))
            return "failed"
        await self._wait_for_slot(claim)
        if self._stopping:
            await self._until_stored(claim, lambda: self._release([claim.message_id]))
            return "released"
        try:
            delivery = await sender.send(claim.recipient, outgoing, claim.expires_at)
        except TransientSendError as exc:
            reason, retry_after = exc.reason, exc.retry_after
            return await self._until_stored(
                claim, lambda: self._record_retry(claim, reason, retry_after)
            )
        except PermanentSendError as exc:
            permanent = exc
            return await self._until_stored(claim, lambda: self._record_permanent(claim, permanent))
        except Exception as exc:  # an unexpected error in a channel: retried like a transient
            log.exception("sender %s failed on outbox message %s", claim.channel, claim.message_id)
            reason = f"{type(exc).__name__}: {exc}"
            return await self._until_stored(claim, lambda: self._record_retry(claim, reason, None))
        await self._until_stored(
            claim,
            lambda: self._record_sent(
                claim, delivery.channel, delivery.provider_message_id, delivery.status
            ),
        )
        return "sent"

    async def _until_stored(self, claim: Claim, record: Callable[[], Awaitable[T]]) -> T:
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

    async def _wait_for_slot(self, claim: Claim) -> None:
        chats = self._chats.get(claim.channel)
        if chats is not None:
            await chats.acquire(claim.recipient.telegram_id or claim.recipient.phone)
        bucket = self._buckets.get(claim.channel)
        if bucket is not None:
            await bucket.acquire()

    # --- recording outcomes -----------------------------------------------------------------

    async def _record_sent(
        self, claim: Claim, channel: str, provider_id: str | None, status: str
    ) -> None:
        now = self.ctx.now()
        async with self.ctx.store.transaction() as session:
            result = await session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == claim.message_id,
                    col(OutboxMessage.status).in_([OutboxStatus.SENDING, OutboxStatus.PENDING]),
                )
                .values(
                    status=OutboxStatus.SENT,
                    sent_at=now,
                    channel=channel,
                    provider_message_id=provider_id,
                    delivery_status=status,
                    attempts=claim.attempts + 1,
                    last_error=None,
                )
            )
            if not result.rowcount:
                log.warning(
                    "outbox message %s was sent, but another process had already recorded it",
                    claim.message_id,
                )

    async def _record_retry(self, claim: Claim, reason: str, retry_after: float | None) -> str:
        now = self.ctx.now()
        attempts = claim.attempts + 1
        if retry_after is not None and claim.channel in self._buckets:
            self._buckets[claim.channel].pause(retry_after)
        if attempts >= self.ctx.settings.dispatch.max_attempts:
            await self._update_mine(
                claim,
                status=OutboxStatus.FAILED,
                attempts=attempts,
                last_error=_short(f"gave up after {attempts}: {reason}"),
            )
            return "failed"
        delay = timedelta(seconds=retry_after) if retry_after is not None else backoff(attempts)
        await self._update_mine(
            claim,
            status=OutboxStatus.PENDING,
            attempts=attempts,
            next_attempt_at=now + delay,
            claimed_by=None,
            last_error=_short(reason),
        )
        return "retried"

    async def _record_permanent(self, claim: Claim, exc: PermanentSendError) -> str:
        reason = _short(f"{claim.channel}: {exc.reason}")
        if not exc.unreachable:
            await self._record_failure(claim, reason)
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
        self.wake()
        return "rerouted"

    async def _record_failure(self, claim: Claim, reason: str) -> None:
        await self._update_mine(
            claim,
            status=OutboxStatus.FAILED,
            attempts=claim.attempts + 1,
            last_error=_short(reason),
        )

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

    async def _release(self, message_ids: list[int]) -> int:
        async with self.ctx.store.transaction() as session:
            result = await session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id).in_(message_ids),
                    col(OutboxMessage.status) == OutboxStatus.SENDING,
                    col(OutboxMessage.claimed_by) == self.worker_id,
                )
                .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None)
            )
            return int(result.rowcount or 0)

    async def release_all(self) -> int:
        """Give back every claim of this worker not yet sent (a clean stop)."""
        async with self.ctx.store.transaction() as session:
            result = await session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.status) == OutboxStatus.SENDING,
                    col(OutboxMessage.claimed_by) == self.worker_id,
                )
                .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None)
            )
            return int(result.rowcount or 0)

    # --- running ----------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due messages now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch until ``stop()``: batch after batch while there is work, else poll."""
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


# --- queries shared by every dispatcher --------------------------------------------------------


def _due(now: datetime) -> list[Any]:
    return [
        col(OutboxMessage.status) == OutboxStatus.PENDING,
        col(OutboxMessage.due_at) <= now,
        or_(
            col(OutboxMessage.next_attempt_at).is_(None), col(OutboxMessage.next_attempt_at) <= now
        ),
        or_(col(OutboxMessage.expires_at).is_(None), col(OutboxMessage.expires_at) > now),
    ]


async def _due_rows(
    session: AsyncSession, now: datetime, channel: str, limit: int
) -> list[tuple[OutboxMessage, Person]]:
    """Lock up to ``limit`` due rows routed to ``channel`` (skipping rows others hold)."""
    result = await session.exec(
        select(OutboxMessage, Person)
        .join(Person, col(Person.id) == col(OutboxMessage.person_id))
        .where(*_due(now), route_is(channel))
        .order_by(
            col(OutboxMessage.urgent).desc(), col(OutboxMessage.due_at), col(OutboxMessage.id)
        )
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )
    return [(message, person) for message, person in result.all()]


def _claim_of(message: OutboxMessage, person: Person, channel: str) -> Claim:
    recipient = Recipient(
        person_id=person.id or 0,
        language=person.language,
        telegram_id=person.telegram_id if channel == TELEGRAM else None,
        phone=person.phone if channel == SMS else None,
    )
    return Claim(
        message_id=message.id or 0,
        kind=message.kind,
        payload=dict(message.payload or {}),
        channel=channel,
        recipient=recipient,
        attempts=message.attempts,
        expires_at=message.expires_at,
    )


def _finish(message: OutboxMessage, status: str, reason: str) -> None:
    message.status, message.last_error = status, _short(reason)
    message.claimed_by = None


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def mark_unreachable(person: Person, channel: str, reason: str) -> None:
    """Record that ``channel`` will not reach this person (so routing stops choosing it)."""
    if channel == TELEGRAM:
        person.telegram_blocked = True
    elif channel == SMS and reason.startswith("opted_out"):
        person.sms_opted_out = True
    elif channel == SMS:
        person.sms_unreachable = True


async def expire_overdue(session: AsyncSession, now: datetime) -> int:
    """Pending rows whose moment is over become ``expired``; never sent."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.expires_at) <= now,
        )
        .values(status=OutboxStatus.EXPIRED, last_error="expired before it could be sent")
    )
    return int(result.rowcount or 0)


async def fail_unreachable(session: AsyncSession, now: datetime, limit: int = 500) -> int:
    """Due rows for people no channel reaches become ``failed`` with ``unreachable``."""
    result = await session.exec(
        select(OutboxMessage.id)
        .outerjoin(Person, col(Person.id) == col(OutboxMessage.person_id))
        .where(*_due(now), or_(col(OutboxMessage.person_id).is_(None), route_is(None)))
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )
    ids = [message_id for message_id in result.all() if message_id is not None]
    if not ids:
        return 0
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .values(status=OutboxStatus.FAILED, last_error=UNREACHABLE, channel=None)
    )
    log.warning("%d message(s) reach nobody: marked failed (unreachable)", len(ids))
    return len(ids)


async def reclaim_stale(
    session: AsyncSession, now: datetime, lease: timedelta, worker_id: str
) -> int:
    """Claims older than ``lease``, or made here by a process that is gone, are pending again."""
    holders = await session.exec(
        select(OutboxMessage.claimed_by)
        .where(col(OutboxMessage.status) == OutboxStatus.SENDING)
        .distinct()
    )
    dead = [holder for holder in holders.all() if holder and _holder_is_gone(holder, worker_id)]
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            or_(
                col(OutboxMessage.claimed_at) < now - lease,
                col(OutboxMessage.claimed_by).in_(dead),
            ),
        )
        .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None)
    )
    count = int(result.rowcount or 0)
    if count:
        log.warning("%d claim(s) of a stopped or stuck dispatcher are pending again", count)
    return count


def _holder_is_gone(holder: str, me: str) -> bool:
    """True for a claim made on this host by a process that no longer runs."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    my_host, _, my_rest = me.partition(":")
    my_pid = my_rest.partition(":")[0]
    if host != my_host or not pid_text.isdigit() or holder == me:
        return False
    if pid_text == my_pid:
        return holder not in _LIVE_WORKERS  # an earlier life of this very process id
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False
