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

- a seat idle for ``engine.PING_AFTER_IDLE_S`` goes back to the pool then (a timer, not
  the next turn: till then it is a connection checked out for nobody), and the pool counts
  its idle time from when it was freed as a seat (``engine.IDLE_SINCE``), so it checks the
  connection before use as one idle that long;
- a seat older than a dropped connection the pool has heard of (from any statement, a
  seat's or not) is not taken: it goes back, and the pool replaces it at its checkout;
- a unit that fails gives its connection back to the pool (which rolls back what is left),
  never to the seats; when it failed because the connection dropped, every idle seat goes
  back too (they are older than the failure: the pool replaces those at their checkout);
- ``Store.close`` gives every idle seat back before the pool is closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import first_write
from models.engine import IDLE_SINCE, PING_AFTER_IDLE_S

log = logging.getLogger("vandra.store")

KEPT = 8  # idle seats at most; the rest go back to the pool


@dataclass
class Seat:
    """A connection in autocommit with a lazy unit's options, and a session bound to it."""

    connection: AsyncConnection
    session: AsyncSession
    freed_at: float = 0.0
    closes: int = 0  # how many times the seats had been closed when it was taken


@dataclass
class Seats:
    """The idle seats, the most recently freed last."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    idle: list[Seat] = field(default_factory=list)
    _timer: asyncio.TimerHandle | None = None  # the next look for seats idle too long
    _releasing: set[asyncio.Task[None]] = field(default_factory=set)
    closes: int = 0  # a seat taken before the last close is not kept (the store closed)

    @staticmethod
    def wanted(engine: AsyncEngine) -> bool:
        return engine.dialect.driver == "psycopg" and first_write.available(engine)

    async def take(self) -> Seat:
        """The seat freed last if it is fresh (any older one is stale too: all go back to
        the pool), else a new one on a connection from the pool."""
        if self.idle:
            seat = self.idle.pop()
            if time.monotonic() - seat.freed_at < PING_AFTER_IDLE_S and _usable(seat):
                seat.freed_at = 0.0  # in use
                return seat
            self.idle.append(seat)
            await self._release_idle()
        connection = await self.engine.connect()
        try:
            await connection.execution_options(**first_write.UNIT_OPTIONS)
        except BaseException:
            await connection.close()
            raise
        session = self.sessions(bind=connection)
        return Seat(connection=connection, session=session, closes=self.closes)

    async def give_back(self, seat: Seat) -> None:
        """After a unit that ended well: kept for the next, emptied, unless enough wait."""
        seat.session.expunge_all()
        if len(self.idle) < KEPT and seat.closes == self.closes and _usable(seat):
            seat.freed_at = time.monotonic()
            self.idle.append(seat)
            self._look_later(PING_AFTER_IDLE_S)
            return
        await _release(seat)

    def _look_later(self, delay: float) -> None:
        """Seats idle ``PING_AFTER_IDLE_S`` go back to the pool then, not at the next turn:
        till that comes they would be connections checked out for nobody."""
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(delay, self._expire)

    def _expire(self) -> None:
        self._timer = None
        now = time.monotonic()
        fresh = [now - seat.freed_at < PING_AFTER_IDLE_S for seat in self.idle]
        stale_count = fresh.index(True) if True in fresh else len(fresh)  # the oldest first
        stale, self.idle = self.idle[:stale_count], self.idle[stale_count:]
        if stale:
            task = asyncio.get_running_loop().create_task(_release_all(stale))
            self._releasing.add(task)
            task.add_done_callback(self._releasing.discard)
        if self.idle:
            self._look_later(max(0.0, self.idle[0].freed_at + PING_AFTER_IDLE_S - now))

    async def drop(self, seat: Seat, *, connection_lost: bool) -> None:
        """After a unit that failed: its connection back to the pool, and every idle seat
        with it when the connection dropped."""
        await _release(seat)
        if connection_lost:
            await self._release_idle()

    async def close(self) -> None:
        """Every idle seat back to the pool (and those going back meanwhile, there); a
        seat in use now goes back when its unit ends (the store closed)."""
        self.closes += 1
        await self._release_idle()

    async def _release_idle(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        idle, self.idle = self.idle, []
        await _release_all(idle)
        if self._releasing:
            await asyncio.gather(*self._releasing)


async def _release_all(seats: list[Seat]) -> None:
    for seat in seats:
        await _release(seat)


def _usable(seat: Seat) -> bool:
    """Open, valid, and not older than a drop the pool has heard of since it was checked
    out (the pool replaces such a connection at its next checkout: ``invalidate_time``)."""
    sync = seat.connection.sync_connection
    if sync is None or sync.closed or sync.invalidated:
        return False
    record = cast(Any, sync.connection)._connection_record
    return bool(record.starttime >= cast(Any, sync.engine.pool)._invalidate_time)


async def _release(seat: Seat) -> None:
    if seat.freed_at:  # the pool checks it before use once idle long enough, seat time too
        seat.connection.info[IDLE_SINCE] = seat.freed_at
    try:
        await seat.session.close()
        await seat.connection.close()
    except Exception:  # a broken connection: the pool has dropped it
        log.warning("a kept connection failed to close", exc_info=True)
