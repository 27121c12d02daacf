"""Claims as leases: made with a token and an expiry, renewed while held, taken back once lapsed.

A claim is never judged by who made it (a host name and a process id say nothing when two
containers share a host name): only its lease counts. A live dispatcher renews the leases of
what it holds every third of ``[dispatch] lease``; a row whose lease ran out is pending again
for whoever comes next. Its ``attempt_started_at`` is kept: set, it says an attempt began whose
outcome nobody recorded, which the next claimer must settle before sending again
(docs/delivery.md).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import OutboxMessage, OutboxStatus
from scheduling.common.context import Context
from scheduling.messages.observing import DUPLICATE_SUSPECTED, UNOBSERVED, DeliveryObserver

log = logging.getLogger("vandra.dispatch")


def worker_identity() -> str:
    """``host:pid:token``: who holds a claim, for people reading the outbox (not a liveness
    test: ``claim_token`` and ``lease_until`` decide)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def new_token() -> str:
    """A claim's own token: outcomes are recorded only where it still stands."""
    return secrets.token_hex(16)


async def reclaim_lapsed(
    session: AsyncSession, now: datetime, observer: DeliveryObserver = UNOBSERVED
) -> int:
    """Rows ``sending`` whose lease ran out are pending again (the attempt marker kept); each
    a suspected duplicate, as whether its holder sent it is not known."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            or_(col(OutboxMessage.lease_until).is_(None), col(OutboxMessage.lease_until) < now),
        )
        .values(
            status=OutboxStatus.PENDING,
            claimed_by=None,
            claimed_at=None,
            claim_token=None,
            lease_until=None,
        )
        .returning(col(OutboxMessage.channel), col(OutboxMessage.kind))
    )
    rows = result.all()
    for channel, kind in rows:
        observer.delivery(DUPLICATE_SUSPECTED, channel, kind)
    count = len(rows)
    if count:
        log.warning("%d claim(s) whose lease ran out are pending again", count)
    return count


async def renew(ctx: Context, tokens: list[str], lease: timedelta) -> int:
    """Push the leases of the claims named by ``tokens`` to ``lease`` from now; how many rows
    this process still holds (fewer than it thinks: a lease lapsed and was taken over)."""
    if not tokens:
        return 0
    async with ctx.store.transaction() as session:
        result = await session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.status) == OutboxStatus.SENDING,
                col(OutboxMessage.claim_token).in_(tokens),
            )
            .values(lease_until=ctx.now() + lease)
        )
        return int(result.rowcount or 0)
