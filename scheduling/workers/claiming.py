"""Claiming due outbox rows for one channel, and tidying the rows no dispatcher may send."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import OutboxMessage, OutboxStatus, Person
from scheduling.messages.content import Recipient
from scheduling.messages.observing import EXPIRED, FAILED, UNOBSERVED, DeliveryObserver
from scheduling.messages.relevance import stale_reason
from scheduling.messages.routing import SMS, TELEGRAM, claimable_by, reaches_nobody

log = logging.getLogger("vandra.dispatch")

UNREACHABLE = "unreachable"
MAX_ERROR = 300


@dataclass(frozen=True)
class Lease:
    """Who claims (``worker_id``, for people reading the outbox), the claim's own ``token``
    (what outcomes are checked against) and until when it holds unless renewed."""

    worker_id: str
    token: str
    until: datetime


@dataclass(frozen=True)
class Claim:
    """One claimed row, with what sending it needs. ``in_doubt_since``: an earlier attempt
    began then and its outcome is unknown (its claimer died, or the provider did not answer)."""

    message_id: int
    kind: str
    payload: dict[str, Any]
    channel: str
    recipient: Recipient
    attempts: int
    expires_at: datetime | None
    token: str = ""
    in_doubt_since: datetime | None = None
    created_at: datetime | None = None


def short(text: str) -> str:
    """An error text cut to what ``last_error`` keeps."""
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


async def claim_batch(
    session: AsyncSession, now: datetime, channel: str, limit: int, lease: Lease,
    required_trained: int, observer: DeliveryObserver = UNOBSERVED, min_priority: int = 0,
) -> tuple[list[Claim], int]:
    """Mark up to ``limit`` due rows routed to ``channel`` ``sending`` under ``lease``, the
    highest ``priority`` first (only those of ``min_priority`` or more); rows that no longer
    make sense are ``expired`` instead. The claims and the expired count."""
    claims, expired = [], 0
    for message, person in await _due_rows(session, now, channel, limit, min_priority):
        reason = await stale_reason(session, message, now, required_trained)
        if reason is not None:
            message.status, message.last_error = OutboxStatus.EXPIRED, short(f"not sent: {reason}")
            message.claimed_by = message.claim_token = message.attempt_started_at = None
            expired += 1
            observer.delivery(EXPIRED, channel, message.kind)
        else:
            message.status, message.channel = OutboxStatus.SENDING, channel
            message.claimed_by, message.claimed_at = lease.worker_id, now
            message.claim_token, message.lease_until = lease.token, lease.until
            claims.append(_claim_of(message, person, channel))
        session.add(message)
    return claims, expired


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
    session: AsyncSession, now: datetime, channel: str, limit: int, min_priority: int = 0
) -> list[tuple[OutboxMessage, Person]]:
    """Lock up to ``limit`` due rows routed to ``channel`` (skipping rows others hold)."""
    wanted = [col(OutboxMessage.priority) >= min_priority] if min_priority > 0 else []
    result = await session.exec(
        select(OutboxMessage, Person)
        .join(Person, col(Person.id) == col(OutboxMessage.person_id))
        .where(*_due(now), claimable_by(channel), *wanted)
        .order_by(
            col(OutboxMessage.priority).desc(),
            col(OutboxMessage.urgent).desc(),
            col(OutboxMessage.due_at),
            col(OutboxMessage.id),
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
        token=message.claim_token or "",
        in_doubt_since=message.attempt_started_at,
        created_at=message.created_at,
    )


async def expire_overdue(
    session: AsyncSession, now: datetime, observer: DeliveryObserver = UNOBSERVED
) -> int:
    """Pending rows whose moment is over become ``expired``; never sent."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.expires_at) <= now,
        )
        .values(status=OutboxStatus.EXPIRED, last_error="expired before it could be sent")
        .returning(col(OutboxMessage.channel), col(OutboxMessage.kind))
    )
    rows = result.all()
    for channel, kind in rows:
        observer.delivery(EXPIRED, channel, kind)
    return len(rows)


async def fail_unreachable(
    session: AsyncSession, now: datetime, limit: int = 500,
    observer: DeliveryObserver = UNOBSERVED,
) -> int:
    """Due rows for people no channel reaches become ``failed`` with ``unreachable``."""
    result = await session.exec(
        select(OutboxMessage.id, OutboxMessage.kind)
        .outerjoin(Person, col(Person.id) == col(OutboxMessage.person_id))
        .where(*_due(now), or_(col(OutboxMessage.person_id).is_(None), reaches_nobody()))
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )
    rows = result.all()
    ids = [message_id for message_id, _ in rows if message_id is not None]
    if not ids:
        return 0
    for _, kind in rows:
        observer.delivery(FAILED, None, kind)
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids))
        .values(status=OutboxStatus.FAILED, last_error=UNREACHABLE, channel=None)
    )
    log.warning("%d message(s) reach nobody: marked failed (unreachable)", len(ids))
    return len(ids)
