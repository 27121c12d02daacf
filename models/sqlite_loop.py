"""SQLite run on the event loop's thread, with asynchronous waits for another process's lock.

SQLite serialises write transactions anyway, so a process keeps one connection: concurrent
transactions queue for it in the pool instead of polling SQLite's lock. Statements run on the
event loop's own thread (``_InLoopConnection``): an embedded SQLite statement takes
microseconds, far less than handing it to aiosqlite's worker thread and back (which, under
load, also waits for the interpreter lock). The one wait that can be long, for another
process's write lock, is not a blocking one: SQLite answers "locked" at once (no busy
timeout) and the statement is tried again after an asynchronous sleep, for up to
``LOCK_WAIT_S``, so the loop keeps serving meanwhile. Every transaction starts with
``BEGIN IMMEDIATE`` (see ``models/db.py``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

LOCK_WAIT_S = 30.0  # how long a statement waits for another process's write lock
_LOCK_RETRY_FIRST_S = 0.001
_LOCK_RETRY_CAP_S = 0.05


class _OneTripCursor:
    """A cursor that runs a statement, fetches its rows and closes the sqlite3 cursor in one
    call, and serves the rows from memory (it never streams).

    SQLAlchemy's use of an aiosqlite cursor (open, execute, fetch, close) is four calls per
    statement; this does the work in one. A statement refused because another process holds
    the write lock had no effect and is tried again after an asynchronous sleep.
    """

    arraysize = 1

    def __init__(self, connection: _InLoopConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> _OneTripCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> _OneTripCursor:
        return await self._run("execute", sql, () if parameters is None else parameters)

    async def executemany(self, sql: str, parameters: Any) -> _OneTripCursor:
        return await self._run("executemany", sql, parameters)

    async def _run(self, method: str, sql: str, parameters: Any) -> _OneTripCursor:
        connection = self._connection

        def run() -> tuple[list[Any], Any, int, int | None]:
            cursor = connection._conn.cursor()
            try:
                getattr(cursor, method)(sql, parameters)
                rows = cursor.fetchall() if cursor.description else []
                return rows, cursor.description, cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        delay, waited = _LOCK_RETRY_FIRST_S, 0.0
        while True:
            try:
                rows, self.description, self.rowcount, self.lastrowid = await connection._execute(
                    run
                )
                break
            except sqlite3.OperationalError as error:
                if not _locked(error) or waited >= LOCK_WAIT_S:
                    raise
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, _LOCK_RETRY_CAP_S)
        self._rows = deque(rows)
        return self

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(self.arraysize if size is None else size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()


def _locked(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED))
    return "locked" in str(error)


class _InLoopConnection(aiosqlite.Connection):
    """aiosqlite's connection, with statements run on the event loop's thread (see above)
    through :class:`_OneTripCursor` cursors.

    aiosqlite's worker thread still opens the sqlite3 connection and serves the few calls
    SQLAlchemy queues to it directly (the isolation level, closing); the loop waits for each,
    so the connection is never used from two threads at once.
    """

    def cursor(self) -> _OneTripCursor:  # type: ignore[override]
        return _OneTripCursor(self)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def _in_loop_connection(database: str, **kwargs: Any) -> _InLoopConnection:
    def connector() -> sqlite3.Connection:
        # opened on aiosqlite's thread, used on the loop's; never from both at once
        return sqlite3.connect(database, **{**kwargs, "check_same_thread": False, "timeout": 0})

    connection = _InLoopConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
    return connection


def prepare_sqlite(engine: AsyncEngine, *, wal: bool, begin: str = "BEGIN IMMEDIATE") -> None:
    """Connections run on the loop's thread, in WAL mode; transactions start with ``begin``
    (a reader's plain ``BEGIN`` takes no write lock)."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "do_connect")
    def _connections(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        params["async_creator_fn"] = _in_loop_connection

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=0")  # lock waits are asynchronous: see above
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Straight on the driver's cursor (the lock waits above included): through
        # ``exec_driver_sql`` SQLAlchemy's statement machinery cost more than the BEGIN.
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(begin)
        except sqlite3.Error as error:  # aiosqlite's adapter raises sqlite3's own classes
            raise DBAPIError.instance(begin, None, error, sqlite3.Error) from error
        finally:
            cursor.close()
