"""PostgreSQL (psycopg, asyncpg): a dialogue turn's transaction begins at its first write, not
its read.

psycopg sends ``BEGIN`` and ``COMMIT`` as round trips of their own, and on PostgreSQL every
round trip costs the bot's event loop 0.05-0.4 ms (bench/README.md). A turn that only reads
and then writes its conversation (a deep link's shift card, a list of shifts, a help text)
needs no transaction: under READ COMMITTED, PostgreSQL's default and ours, a read in a
transaction sees what any read on its own would (each statement its own snapshot), and one
statement is atomic by itself.

So a unit opened with ``Store.unit(first_write_begins=True)`` (the dialogue's turns) runs its
connection in autocommit, and this module's ``before_cursor_execute`` listener begins the
transaction with the first statement that needs one: any statement that is not a plain
``SELECT`` (a write, a ``SAVEPOINT``), and a ``SELECT`` that locks rows (``FOR UPDATE``,
``FOR SHARE``: the lock must last until the commit). From then on the unit is one
transaction as before, and psycopg's ``commit()`` sends the ``COMMIT`` unless it went
already (below); a unit that never began one sends neither.

The unit's last statement, a write given ``LAST_WRITE`` by ``Store.last_write`` (the
conversation's next state) when nothing else is pending or to be written at the commit: if
the unit wrote nothing before, it runs without a transaction (one statement is atomic by
itself); if it did, the ``COMMIT`` rides with it. ``BEGIN`` rides with the statement that
needs it too. Both go in the same round trip as the statement: psycopg's client-side binding
cursor sends ``BEGIN; <statement>`` or ``<statement>; COMMIT`` as one simple query (each
statement still with its own snapshot under READ COMMITTED, so a read after the lock sees
what the lock's holder committed), and answers with the statement's own result.

So a turn that only reads before writing its conversation makes no ``BEGIN`` or ``COMMIT``
round trip, and one that writes makes neither as a round trip of its own
(``tests/test_turn_statements.py`` counts what psycopg sends).

A write given ``LONE_WRITE`` stands alone: one whose effect is complete by itself whatever
the rest of its transaction does (the tick's clean-ups, a due mark for shifts with nothing
to send). If the transaction has not begun it runs without one, and the transaction's
``COMMIT`` has nothing to end (psycopg sends none); if it has, it runs in it as any write
(the scheduler's tick: ``tests/test_tick_statements.py``). Only on psycopg.

On asyncpg the unit's connection is in autocommit the same way, and the listener takes it
out of autocommit for the first statement that needs a transaction: SQLAlchemy's adapter
then sends its ``BEGIN`` before that statement (a round trip of its own: asyncpg sends a
statement with parameters alone, so neither ``BEGIN`` nor ``COMMIT`` can ride along) and
its commit or rollback ends the transaction. A turn that only reads before writing its
conversation makes 3 round trips instead of 5, a sign-up 7 as before
(``tests/test_turn_statements.py`` counts what the adapter sends).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

LAZY = "vandra_first_write_begins"  # a connection option: this unit begins at its first write
LAST_WRITE = "vandra_last_write"  # a statement option: the unit's last statement, a write
# a statement option: a write that needs no transaction when none has begun (it stands alone)
LONE_WRITE = "vandra_lone_write"

# Autocommit for the unit's connection; SQLAlchemy puts the pool's default back on release.
UNIT_OPTIONS = {"isolation_level": "AUTOCOMMIT", LAZY: True}

_LOCKING = re.compile(r"\bFOR\s+(?:UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)


def available(engine: AsyncEngine) -> bool:
    """Whether the engine's units can begin at their first write: PostgreSQL through psycopg
    or asyncpg (SQLite's units take their write lock with ``BEGIN IMMEDIATE`` up front)."""
    return engine.dialect.name == "postgresql" and engine.dialect.driver in ("psycopg", "asyncpg")


def install(engine: AsyncEngine) -> None:
    if available(engine):
        event.listen(engine.sync_engine, "before_cursor_execute", _begin_before_writing)


@functools.lru_cache(maxsize=1024)
def needs_transaction(statement: str) -> bool:
    """Whether a statement must run inside the unit's transaction: all but plain reads.
    (Remembered per statement: SQLAlchemy hands over the same compiled strings, and the
    search through a long one cost 0.03 ms.)"""
    head = statement.lstrip()[:6].upper()
    return head != "SELECT" or _LOCKING.search(statement) is not None


def _begin_before_writing(
    conn: Connection,
    cursor: Any,
    statement: str,
    _parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    if not conn.get_execution_options().get(LAZY):
        return
    if conn.dialect.driver == "asyncpg":
        _begin_on_asyncpg(conn, statement, context)
        return
    driver = conn.connection.driver_connection
    if driver is None:
        return
    options = context.execution_options if context is not None else {}
    joined = joined_cursor(
        driver, statement, last=bool(options.get(LAST_WRITE)), lone=bool(options.get(LONE_WRITE))
    )
    if joined is None:
        return
    if _swappable(cursor, executemany):
        _swap(cursor, joined(driver))
    elif joined is _BeginFirst:
        await_(driver.execute("BEGIN"))
    # else: the COMMIT goes at the commit, a round trip of its own


def joined_cursor(
    driver: psycopg.AsyncConnection[Any], statement: str, *, last: bool, lone: bool
) -> type[psycopg.AsyncClientCursor[Any]] | None:
    """What a lazy unit's statement on psycopg goes with: ``BEGIN`` before the first that
    needs a transaction, ``COMMIT`` after the last write (``LAST_WRITE``) of one begun; None
    when it goes alone (a read, a lone or last write outside a transaction, any statement
    inside one). For this module's listener and for ``models/thin.py``."""
    idle = driver.info.transaction_status == TransactionStatus.IDLE
    if last:
        return None if idle else _CommitAfter  # alone, or the transaction's last statement
    if not idle or lone or not needs_transaction(statement):
        return None  # a lone write is atomic by itself; a COMMIT later finds nothing to end
    return _BeginFirst


def _begin_on_asyncpg(conn: Connection, statement: str, context: Any) -> None:
    """asyncpg: SQLAlchemy's adapter begins a transaction before a statement unless its
    connection is in autocommit, so the unit's connection leaves autocommit for the first
    statement that needs a transaction (its BEGIN is a round trip of its own: asyncpg sends
    a statement with parameters alone) and the adapter's commit or rollback ends it; the
    pool puts the isolation level back when the connection returns."""
    adapted = conn.connection.dbapi_connection
    if adapted is None or not adapted.autocommit:
        return  # begun already
    if context is not None and context.execution_options.get(LAST_WRITE):
        return  # alone: one statement is atomic by itself
    if needs_transaction(statement):
        adapted.isolation_level = conn.dialect._isolation_lookup[  # type: ignore[attr-defined]
            conn.dialect.default_isolation_level or "READ COMMITTED"
        ]


def _swappable(cursor: Any, executemany: bool) -> bool:
    """Whether the statement can go with BEGIN or COMMIT: one execution on psycopg's plain
    cursor (not a server-side one, not many parameter sets)."""
    inner = getattr(cursor, "_cursor", None)
    return not executemany and type(inner) is psycopg.AsyncCursor


def _swap(cursor: Any, joined: psycopg.AsyncClientCursor[Any]) -> None:
    cursor._cursor._close()
    cursor._cursor = joined


class _BeginFirst(psycopg.AsyncClientCursor[Any]):
    """``BEGIN; <statement>`` in one round trip, answering with the statement's result."""

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        await super().execute(f"BEGIN; {query}", params, **kwargs)
        self.nextset()
        return self


class _CommitAfter(psycopg.AsyncClientCursor[Any]):
    """``<statement>; COMMIT`` in one round trip, answering with the statement's result."""

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        await super().execute(f"{query}; COMMIT", params, **kwargs)
        return self
