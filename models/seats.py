"""Connections kept for the dialogue's units between turns (PostgreSQL through psycopg).

A dialogue turn is one unit (``Store.unit(first_write_begins=True)``). Opening one from the
pool cost the bot's event loop about 0.3 ms on PostgreSQL, as much as two statements: a
session made, a connection checked out, its isolation level set to autocommit and reset at
the end, the pool's rollback on return, the session's close shielded in a task of its own
(bench/README.md). Under load turns follow each other by milliseconds, so a unit that ends
well keeps its connection, with a session bound to it and emptied, for the next unit to
take: a *seat*. A seat costs the next unit 0.1 ms.

Each seat is a connection checked out of the engine's pool, so the pool's limits hold (at
most ``KEPT`` seats wait idle). The pool's guarantees are kept as they are for its own
connections (``models/engine.py``):

- a seat idle for ``engine.PING_AFTER_IDLE_S`` or more is not taken: it goes back to the
  pool, which checks a connection idle that long before use;
- a unit that fails gives its connection back to the pool (which rolls back what is left),
  never to the seats; when it failed because the connection dropped, every idle seat goes
  back too (they are older than the failure: the pool replaces those at their checkout);
- ``Store.close`` gives every idle seat back before the pool is closed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import first_write
from models.engine import PING_AFTER_IDLE_S

log = logging.getLogger("vandra.store")

KEPT = 8  # idle seats at most; the rest go back to the pool


@dataclass
class Seat:
    """A connection in autocommit with a lazy unit's options, and a session bound to it."""

    connection: AsyncConnection
    session: AsyncSession
    freed_at: float = 0.0


@dataclass
class Seats:
    """The idle seats, the most recently freed last."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    idle: list[Seat] = field(default_factory=list)

    @staticmethod
    def wanted(engine: AsyncEngine) -> bool:
        return engine.dialect.driver == "psycopg" and first_write.available(engine)

    async def take(self) -> Seat:
        """The seat freed last if it is fresh (any older one is stale too: all go back to
        the pool), else a new one on a connection from the pool."""
        if self.idle:
            seat = self.idle.pop()
            if time.monotonic() - seat.freed_at < PING_AFTER_IDLE_S and _usable(seat):
                return seat
            self.idle.append(seat)
            await self.close()
        connection = await self.engine.connect()
        try:
            await connection.execution_options(**first_write.UNIT_OPTIONS)
        except BaseException:
            await connection.close()
            raise
        return Seat(connection=connection, session=self.sessions(bind=connection))

    async def give_back(self, seat: Seat) -> None:
        """After a unit that ended well: kept for the next, emptied, unless enough wait."""
        seat.session.expunge_all()
        if len(self.idle) < KEPT and _usable(seat):
            seat.freed_at = time.monotonic()
            self.idle.append(seat)
            return
        await _release(seat)

    async def drop(self, seat: Seat, *, connection_lost: bool) -> None:
        """After a unit that failed: its connection back to the pool, and every idle seat
        with it when the connection dropped."""
        await _release(seat)
        if connection_lost:
            await self.close()

    async def close(self) -> None:
        """Every idle seat back to the pool."""
        idle, self.idle = self.idle, []
        for seat in idle:
            await _release(seat)


def _usable(seat: Seat) -> bool:
    sync = seat.connection.sync_connection
    return sync is not None and not sync.closed and not sync.invalidated


async def _release(seat: Seat) -> None:
    try:
        await seat.session.close()
        await seat.connection.close()
    except Exception:  # a broken connection: the pool has dropped it
        log.warning("a kept connection failed to close", exc_info=True)
