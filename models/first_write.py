"""PostgreSQL (psycopg): a dialogue turn's transaction begins at its first write, not its read.

psycopg sends ``BEGIN`` and ``COMMIT`` as round trips of their own, and on PostgreSQL every
round trip costs the bot's event loop about 0.3 ms (bench/README.md). A turn that only reads
and then writes its conversation (a deep link's shift card, a list of shifts, a help text)
needs no transaction: under READ COMMITTED, PostgreSQL's default and ours, a read in a
transaction sees what any read on its own would (each statement its own snapshot), and one
statement is atomic by itself.

So a unit opened with ``Store.unit(first_write_begins=True)`` (the dialogue's turns) runs its
connection in autocommit, and this module's ``before_cursor_execute`` listener sends
``BEGIN`` just before the first statement that needs a transaction: any statement that is not
a plain ``SELECT`` (a write, a ``SAVEPOINT``), and a ``SELECT`` that locks rows (``FOR
UPDATE``, ``FOR SHARE``: the lock must last until the commit). From then on the unit is one
transaction as before, and psycopg's ``commit()`` sends the ``COMMIT``; a unit that never
began one sends neither.

The one statement allowed to write without a transaction is the unit's last, when it is the
unit's only write (``LONE_WRITE``, given by ``Store.write_alone``): the conversation's next
state after a turn that wrote nothing else. Anything written before it (or to be written at
the commit: pending ORM changes, audit records) has begun the transaction already, and the
lone write then simply runs in it.
"""

from __future__ import annotations

import re
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

LAZY = "vandra_first_write_begins"  # a connection option: this unit begins at its first write
LONE_WRITE = "vandra_lone_write"  # a statement option: the unit's last and only write

# Autocommit for the unit's connection; SQLAlchemy puts the pool's default back on release.
UNIT_OPTIONS = {"isolation_level": "AUTOCOMMIT", LAZY: True}

_LOCKING = re.compile(r"\bFOR\s+(?:UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)


def available(engine: AsyncEngine) -> bool:
    """Whether the engine's units can begin at their first write: PostgreSQL through psycopg
    (SQLite's units take their write lock with ``BEGIN IMMEDIATE`` up front, and asyncpg
    keeps its own transaction)."""
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"


def install(engine: AsyncEngine) -> None:
    if available(engine):
        event.listen(engine.sync_engine, "before_cursor_execute", _begin_before_writing)


def needs_transaction(statement: str) -> bool:
    """Whether a statement must run inside the unit's transaction: all but plain reads."""
    head = statement.lstrip()[:6].upper()
    return head != "SELECT" or _LOCKING.search(statement) is not None


def _begin_before_writing(
    conn: Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    if not conn.get_execution_options().get(LAZY):
        return
    driver = conn.connection.driver_connection
    if driver is None or driver.info.transaction_status != TransactionStatus.IDLE:
        return  # begun already
    if context is not None and context.execution_options.get(LONE_WRITE):
        return
    if needs_transaction(statement):
        await_(driver.execute("BEGIN"))
