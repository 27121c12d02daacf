"""The outbox: every message to a person is a row with a deterministic dedupe key.

Enqueueing the same key twice is a no-op (``INSERT ... ON CONFLICT DO NOTHING`` under the
unique constraint), so a rule may be re-evaluated any number of times, by any number of
processes, and each message still exists once. The dispatcher (``scheduling/dispatch.py``)
claims due rows, sends them and records the outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import OutboxMessage, OutboxStatus


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    person_id: int,
    due_at: datetime,
    now: datetime,
    payload: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
    urgent: bool = False,
) -> bool:
    """Queue one message unless its key exists already; True when a new row was written."""
    values = {
        "dedupe_key": key,
        "kind": kind,
        "person_id": person_id,
        "payload": payload or {},
        "status": OutboxStatus.PENDING,
        "urgent": urgent,
        "due_at": due_at,
        "expires_at": expires_at,
        "attempts": 0,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(col(OutboxMessage.id))
    )
    result = await session.exec(statement)
    return result.first() is not None  # rowcount is not reliable here with every driver
