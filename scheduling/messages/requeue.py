"""Putting failed outbox messages back in the queue (``vandra outbox retry``, docs/delivery.md).

Only ``failed`` rows whose moment has not passed (no ``expires_at``, or one still ahead) go
back: pending, due at once, their attempt count and claim cleared. A row that failed because
nobody could be reached fails again at the next pass unless the person's contacts changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col

from models.tables import OutboxMessage, OutboxStatus
from scheduling.common.context import Context


async def requeue_failed(
    ctx: Context, ids: Sequence[int] | None = None, due_since: datetime | None = None
) -> int:
    """Failed, unexpired rows (of ``ids``; due at or after ``due_since``) pending again; how
    many."""
    now = ctx.now()
    where = [
        col(OutboxMessage.status) == OutboxStatus.FAILED,
        or_(col(OutboxMessage.expires_at).is_(None), col(OutboxMessage.expires_at) > now),
    ]
    if ids is not None:
        where.append(col(OutboxMessage.id).in_(list(ids)))
    if due_since is not None:
        where.append(col(OutboxMessage.due_at) >= due_since)
    async with ctx.store.transaction() as session:
        result = await session.exec(
            update(OutboxMessage)
            .where(*where)
            .values(
                status=OutboxStatus.PENDING, attempts=0, next_attempt_at=None, claimed_by=None,
                claimed_at=None, claim_token=None, lease_until=None,
            )
        )
        return int(result.rowcount or 0)
