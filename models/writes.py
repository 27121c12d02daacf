"""Write helpers: statements that go past the ORM's bookkeeping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Executable
from sqlmodel.ext.asyncio.session import AsyncSession

from models import thin


async def write_rows(
    session: AsyncSession,
    statement: Executable,
    params: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
) -> int:
    """Run an INSERT, UPDATE or DELETE that concerns no object the session holds, in the
    session's transaction, and return how many rows it changed.

    It runs on the session's connection, past the ORM's execution layer, which for an UPDATE
    would look for loaded objects to bring up to date: every dialogue turn writes its
    conversation this way (measured per UPDATE: 0.13 ms instead of 0.34 ms on SQLite, 0.30
    instead of 0.53 ms on PostgreSQL). What the session holds unwritten is flushed first, as
    ``Session.execute`` would, so the statement runs after the turn's earlier writes.
    ``options`` are the statement's execution options (``Store.last_write``'s).
    """
    return await thin.write(session, statement, params, options)
