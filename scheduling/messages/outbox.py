"""The outbox: every message to a person is a row with a deterministic dedupe key.

Enqueueing the same key twice is a no-op (``INSERT ... ON CONFLICT DO NOTHING`` under the
unique constraint), so a rule may be re-evaluated any number of times, by any number of
processes, and each message still exists once. The dispatcher (``scheduling/workers/dispatcher.py``)
claims due rows, sends them and records the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlmodel import col, select
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
    """Add one message to the outbox unless its key exists already; True when a row was written."""
    values = {
        "dedupe_key": key,
        "kind": kind,
        "person_id": person_id,
        "payload": payload or {},
        "status": OutboxStatus.PENDING,
        "urgent": urgent,
        "priority": 0,
        "due_at": due_at,
        "expires_at": expires_at,
        "attempts": 0,
        "created_at": now,
    }
    statement = (
        _insert(session)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(col(OutboxMessage.id))
    )
    result = await session.exec(statement)
    return result.first() is not None  # rowcount is not reliable here with every driver


def _insert(session: AsyncSession) -> PostgresInsert | SqliteInsert:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(OutboxMessage)


@dataclass(frozen=True)
class NewMessage:
    """One row for ``enqueue_many``; ``status`` may be ``expired`` to record a missed one."""

    key: str
    kind: str
    person_id: int
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None
    urgent: bool = False
    status: str = OutboxStatus.PENDING
    priority: int = 0  # higher is claimed first (an alarm)
    only_channel: str | None = None  # this channel only, whatever the person prefers
    last_error: str | None = None


ENQUEUE_CHUNK = 500  # rows per INSERT (SQLite caps the number of bound values)


async def enqueue_many(session: AsyncSession, messages: Sequence[NewMessage], now: datetime) -> int:
    """Add many messages to the outbox in few round trips, skipping keys that exist; how many
    were new.

    One compiled ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` executed for all rows
    (SQLAlchemy batches them into multi-row statements).
    """
    if not messages:
        return 0
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
    )
    connection = await session.connection()
    written = 0
    for start in range(0, len(messages), ENQUEUE_CHUNK):
        rows = [_row(message, now) for message in messages[start : start + ENQUEUE_CHUNK]]
        result = await connection.execute(statement, rows)
        written += len(result.all())
    return written


def _row(message: NewMessage, now: datetime) -> dict[str, Any]:
    return {
        "dedupe_key": message.key,
        "kind": message.kind,
        "person_id": message.person_id,
        "payload": message.payload,
        "status": message.status,
        "urgent": message.urgent,
        "priority": message.priority,
        "only_channel": message.only_channel,
        "due_at": message.due_at,
        "expires_at": message.expires_at,
        "attempts": 0,
        "last_error": message.last_error,
        "created_at": now,
    }


async def list_messages(
    session: AsyncSession, status: str | None = None, limit: int | None = None
) -> list[OutboxMessage]:
    """Outbox rows in id order, optionally of one status; with ``limit``, the latest ones."""
    statement = select(OutboxMessage)
    if status is not None:
        statement = statement.where(col(OutboxMessage.status) == status)
    if limit is not None:
        statement = statement.order_by(col(OutboxMessage.id).desc()).limit(limit)
        return sorted((await session.exec(statement)).all(), key=lambda m: m.id or 0)
    return list((await session.exec(statement.order_by(col(OutboxMessage.id)))).all())
