"""The store: sessions, transactions and units on SQLite (embedded default) or PostgreSQL.

The store is async end to end (aiosqlite / psycopg 3). On SQLite every transaction starts with
``BEGIN IMMEDIATE`` so that "count the seats, then take one" cannot interleave between two writers;
on PostgreSQL the use cases lock the row they decide on (``SELECT ... FOR UPDATE``).

The engine is made in ``engine.py`` (SQLite's connections in ``sqlite_loop.py``), the schema
is brought up to date in ``schema.py``; this module re-exports ``StoreError``, ``schema_state``
and ``upgrade``, which most of its importers take from here with ``Store``.

A dialogue turn (or an SMS webhook request) runs as one *unit*: one transaction from loading
the conversation to saving it (``Store.unit``). Use cases called inside it keep their own
``Store.transaction()`` blocks, which become savepoints of the unit, so a use case that fails
still undoes only its own writes; ``Store.joined()`` blocks (reads, single statements) join
the unit without one. A refusal's audit record is written whatever happens to the use case
that was refused (``Store.regardless``). The whole turn commits at once: its changes, its
outbox rows and the conversation's next state together, or none of them. On PostgreSQL
through psycopg a dialogue turn's transaction begins at its first write or lock, and a turn
whose only write is its conversation needs none (``first_write.py``: fewer round trips, the
same guarantees under READ COMMITTED). The scheduler's tick opens its transactions the same
way (``Store.begin_at_first_write``): most of its steps only read; and runs them one after
another on one connection (``Store.one_connection``), not one from the pool each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import first_write
from models.engine import StoreError, create_engine
from models.schema import schema_state, upgrade
from models.seats import Seats

__all__ = ["Store", "StoreError", "schema_state", "session_factory", "upgrade"]

log = logging.getLogger("vandra.store")


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop
        return None


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


Write = Callable[[AsyncSession], None]


@dataclass
class _Unit:
    """The transaction of one turn, for the task that opened it (``Store.unit``)."""

    store: Store
    session: AsyncSession
    task: asyncio.Task[Any] | None
    regardless: list[Write] = field(default_factory=list)
    first_write_begins: bool = False


@dataclass
class _Shared:
    """One connection, and one session on it, for a task's lazy transactions one after
    another (``Store.one_connection``): taken from the pool at the first, put back at the
    end; the session is emptied after each transaction, as closing it would."""

    store: Store
    task: asyncio.Task[Any] | None
    connection: AsyncConnection | None = None
    session: AsyncSession | None = None
    busy: bool = False  # a transaction is on it: one inside that takes a pool connection

    async def open(self) -> AsyncSession:
        if self.session is None:
            connection = await self.store.engine.connect()
            await connection.execution_options(**first_write.UNIT_OPTIONS)
            self.connection = connection
            self.session = self.store.sessions(bind=connection)
        return self.session

    async def release(self) -> None:
        """Back to the pool (which rolls back whatever a failure left open); after a failure
        the next transaction takes another, set up afresh (a connection the pool replaced
        after a break would not be in autocommit)."""
        session, connection = self.session, self.connection
        self.session, self.connection = None, None
        try:
            if session is not None:
                await session.close()
            if connection is not None:
                await connection.close()
        except Exception:  # a broken connection: the pool has dropped it
            log.warning("a shared connection failed to close", exc_info=True)


_UNIT: ContextVar[_Unit | None] = ContextVar("vandra_store_unit", default=None)
# ``Store.begin_at_first_write``: this task's transactions outside a unit begin lazily too
_LAZY: ContextVar[bool] = ContextVar("vandra_store_lazy_transactions", default=False)
# ``Store.one_connection``: this task's lazy transactions run on one connection
_SHARED: ContextVar[_Shared | None] = ContextVar("vandra_store_shared", default=None)


@dataclass
class Store:
    """The engine plus a session factory: what every use case is given."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    seats: Seats | None = None  # the dialogue units' kept connections (``models/seats.py``)

    def __post_init__(self) -> None:
        if self.seats is None and Seats.wanted(self.engine):
            self.seats = Seats(engine=self.engine, sessions=self.sessions)

    @classmethod
    def open(cls, url: str, *, reader: bool = False) -> Store:
        engine = create_engine(url, reader=reader)
        return cls(engine=engine, sessions=session_factory(engine))

    def _current_unit(self) -> _Unit | None:
        """The unit this task is in, if any. Tasks started inside a unit inherit the context
        variable but not the unit: a session serves one task at a time."""
        unit = _UNIT.get()
        if unit is None or unit.store is not self or unit.task is not _current_task():
            return None
        return unit

    @property
    def in_unit(self) -> bool:
        return self._current_unit() is not None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error.

        Inside a unit this is a savepoint of the unit's transaction: released on success,
        rolled back on error (the rest of the unit goes on)."""
        unit = self._current_unit()
        if unit is not None:
            async with unit.session.begin_nested():
                yield unit.session
            return
        async with self._outside_unit() as session:
            yield session

    @contextmanager
    def begin_at_first_write(self) -> Iterator[None]:
        """Within the block, this task's transactions outside a unit (``transaction``,
        ``joined``) begin at their first write or lock, as a lazy unit does: one that only
        reads sends no ``BEGIN`` and no ``COMMIT`` (PostgreSQL; ``models/first_write.py``).
        For the ticker's steps, which mostly find nothing to do. A locking read must go
        through SQLAlchemy, whose events begin the transaction (``evaluation/walk_tally.py``'s
        ``raw_rows`` sends one that way); a task started inside the block inherits it."""
        token = _LAZY.set(True)
        try:
            yield
        finally:
            _LAZY.reset(token)

    async def _lazy(self, session: AsyncSession) -> None:
        if _LAZY.get() and first_write.available(self.engine):
            await session.connection(execution_options=first_write.UNIT_OPTIONS)

    @asynccontextmanager
    async def one_connection(self) -> AsyncIterator[None]:
        """Within the block, this task's lazy transactions (``begin_at_first_write``) run one
        after another on one connection, taken from the pool at the first and put back at
        the end, with one session emptied after each (PostgreSQL through psycopg; elsewhere
        nothing changes). For the ticker's twenty-odd steps and rules, most of which only
        read: a pool checkout, its isolation level set and reset, cost the loop about 0.3 ms
        each and a session of its own 0.1 ms (bench/README.md). Each transaction still
        commits or rolls back alone, leaving the connection outside any transaction between
        them (no lock, no snapshot held) and the session without the rows it loaded; after
        one that failed the connection goes back to the pool and the next takes another;
        one begun inside another, or by another task, takes a connection of its own."""
        if self.engine.dialect.driver != "psycopg" or not first_write.available(self.engine):
            yield
            return
        shared = _Shared(store=self, task=_current_task())
        token = _SHARED.set(shared)
        try:
            yield
        finally:
            _SHARED.reset(token)
            await shared.release()

    def _free_shared(self) -> _Shared | None:
        shared = _SHARED.get()
        if shared is None or shared.store is not self or shared.busy or not _LAZY.get():
            return None
        return shared if shared.task is _current_task() else None

    @asynccontextmanager
    async def _outside_unit(self) -> AsyncIterator[AsyncSession]:
        """A transaction of its own: on the task's shared connection when it has one free,
        else on a connection from the pool (beginning lazily in ``begin_at_first_write``)."""
        shared = self._free_shared()
        if shared is None:
            async with self.sessions() as session, session.begin():
                await self._lazy(session)
                yield session
            return
        shared.busy = True
        try:
            session = await shared.open()
            async with session.begin():
                yield session
            session.expunge_all()  # what it loaded is not carried into the next
        except BaseException:
            await shared.release()
            raise
        finally:
            shared.busy = False

    @asynccontextmanager
    async def joined(self) -> AsyncIterator[AsyncSession]:
        """The unit's session as it is, without a savepoint, or a transaction of its own
        outside a unit: for reads, and for a single statement that has nothing of its own
        to undo (it goes with the unit if the unit fails)."""
        unit = self._current_unit()
        if unit is not None:
            yield unit.session
            return
        async with self._outside_unit() as session:
            yield session

    @asynccontextmanager
    async def unit(self, *, first_write_begins: bool = False) -> AsyncIterator[AsyncSession]:
        """One transaction for a whole exchange (see the top of this module). Committed when
        the block ends without an error, else rolled back; a unit inside a unit joins it.

        ``first_write_begins``: on PostgreSQL (psycopg) the transaction begins at the unit's
        first write or lock rather than its first read, and a unit whose only write is its
        last (``last_write``) needs none (``models/first_write.py``)."""
        unit = self._current_unit()
        if unit is not None:
            yield unit.session
            return
        lazy = first_write_begins and first_write.available(self.engine)
        async with self._unit_session(lazy) as (session, seated):
            unit = _Unit(store=self, session=session, task=_current_task())
            unit.first_write_begins = lazy
            token = _UNIT.set(unit)
            try:
                async with session.begin():
                    if lazy and not seated:
                        await session.connection(execution_options=first_write.UNIT_OPTIONS)
                    try:
                        yield session
                    finally:
                        _UNIT.reset(token)  # what follows writes on the unit's own session
                    for write in unit.regardless:
                        write(session)
            except BaseException:
                if unit.regardless:
                    try:
                        await self._write_regardless(unit.regardless)
                    except Exception:  # the unit's own error is the one to raise
                        log.exception("audit records of a failed unit were not written")
                raise

    @asynccontextmanager
    async def _unit_session(self, lazy: bool) -> AsyncIterator[tuple[AsyncSession, bool]]:
        """A unit's session, and whether it sits on a kept connection (a lazy unit on
        psycopg: ``models/seats.py``) rather than a session of its own from the pool."""
        if not lazy or self.seats is None:
            async with self.sessions() as session:
                yield session, False
            return
        seat = await self.seats.take()
        try:
            yield seat.session, True
        except BaseException as error:
            lost = isinstance(error, DBAPIError) and error.connection_invalidated
            await self.seats.drop(seat, connection_lost=lost)
            raise
        await self.seats.give_back(seat)

    def last_write(self, session: AsyncSession) -> dict[str, Any]:
        """Execution options for the unit's last statement, a write, in a unit that began at
        its first write with nothing pending or to be written at the commit: it runs alone
        when nothing was written before it, else with the COMMIT in its round trip
        (``models/first_write.py``). Empty (an ordinary statement of the unit) otherwise.
        The caller promises it is one statement and nothing runs after it."""
        unit = self._current_unit()
        if unit is None or not unit.first_write_begins or unit.regardless:
            return {}
        if session.new or session.dirty or session.deleted or session.in_nested_transaction():
            return {}
        return {first_write.LAST_WRITE: True}

    async def regardless(self, write: Write) -> None:
        """Write something (an audit record of a refusal) whether or not the surrounding
        transaction commits: at once in its own transaction, or inside a unit with the unit's
        commit, or, should the unit fail, in a transaction of its own after it."""
        unit = self._current_unit()
        if unit is not None:
            unit.regardless.append(write)
            return
        await self._write_regardless([write])

    async def _write_regardless(self, writes: list[Write]) -> None:
        async with self.sessions() as session, session.begin():
            for write in writes:
                write(session)

    async def close(self) -> None:
        if self.seats is not None:
            await self.seats.close()
        await self.engine.dispose()
