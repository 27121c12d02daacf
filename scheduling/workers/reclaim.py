"""Reclaiming dead claims: rows a stopped or stuck dispatcher left ``sending`` are pending again."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import OutboxMessage, OutboxStatus
from scheduling.messages.observing import DUPLICATE_SUSPECTED, UNOBSERVED, DeliveryObserver

log = logging.getLogger("vandra.dispatch")

_LIVE_WORKERS: set[str] = set()  # dispatchers of this process (several in tests)


def worker_identity() -> str:
    """``host:pid:token``: who holds a claim, and whether that process can still be alive."""
    identity = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
    _LIVE_WORKERS.add(identity)
    return identity


async def reclaim_stale(
    session: AsyncSession, now: datetime, lease: timedelta, worker_id: str,
    observer: DeliveryObserver = UNOBSERVED,
) -> int:
    """Claims older than ``lease``, or made here by a process that is gone, are pending again
    (each a suspected duplicate: whether its holder sent it is not known)."""
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
        .returning(col(OutboxMessage.channel), col(OutboxMessage.kind))
    )
    rows = result.all()
    for channel, kind in rows:
        observer.delivery(DUPLICATE_SUSPECTED, channel, kind)
    count = len(rows)
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
