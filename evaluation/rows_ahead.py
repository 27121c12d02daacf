"""Read statements' rows while the caller works on those of the earlier ones.

A year's statistics are a few large aggregating statements, each followed by Python work on
its rows (tally_sums.py). Run one after the other, the database waits while Python works and
Python waits while the database does. ``rows_ahead`` starts the statements at once, in order,
in the caller's transaction (so in its snapshot), and hands their rows out as they come:

- SQLite: the statements run one after another on the connection's own ``sqlite3``
  connection in a thread of their own (``sqlite3`` lets go of the interpreter lock while a
  statement runs); the caller does not use the connection until the block ends, and the block
  ends only once that thread is done with it.
- PostgreSQL: a task sends the statements one after another on the connection; the next one
  is sent as soon as the rows of the one before are read, and the server runs it while the
  caller works on those rows.

Every statement is a plain read (``raw_rows``' rules for ``sql`` and ``params``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from evaluation.walk_tally import raw_rows, sqlite_statement

Rows = list[tuple[Any, ...]]
Fetch = Callable[[int], Awaitable[Rows]]  # the rows of the statement at that position

_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rows-ahead")


@asynccontextmanager
async def rows_ahead(
    connection: AsyncConnection, statements: Sequence[str], params: dict[str, Any]
) -> AsyncIterator[Fetch]:
    """``fetch(n)``: the rows of ``statements[n]``, run ahead of the caller's asking (see the
    module's docstring); the caller uses the connection again only after the block."""
    loop = asyncio.get_running_loop()
    done: list[asyncio.Future[Rows]] = [loop.create_future() for _ in statements]
    if connection.dialect.name == "sqlite":
        worker = await _in_thread(connection, statements, params, done)
    else:
        worker = loop.create_task(_in_turn(connection, statements, params, done))

    async def fetch(n: int) -> Rows:
        return await done[n]

    try:
        yield fetch
    finally:
        await _finished(worker, done)


async def _in_thread(
    connection: AsyncConnection,
    statements: Sequence[str],
    params: dict[str, Any],
    done: list[asyncio.Future[Rows]],
) -> asyncio.Future[None]:
    """SQLite: the statements one after another on the ``sqlite3`` connection, in a thread."""
    loop = asyncio.get_running_loop()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    database: Any = driver._conn
    prepared = [sqlite_statement(sql, params) for sql in statements]

    def run() -> None:
        for n, (sql, values) in enumerate(prepared):
            try:
                rows = database.execute(sql, values).fetchall()
            except Exception as error:
                loop.call_soon_threadsafe(_failed, done[n:], error)
                return
            loop.call_soon_threadsafe(_give, done[n], rows)

    return loop.run_in_executor(_THREAD, run)


async def _in_turn(
    connection: AsyncConnection,
    statements: Sequence[str],
    params: dict[str, Any],
    done: list[asyncio.Future[Rows]],
) -> None:
    """PostgreSQL: the statements one after another, each sent once the one before is read."""
    for n, sql in enumerate(statements):
        try:
            rows = await raw_rows(connection, sql, params)
        except Exception as error:
            _failed(done[n:], error)
            return
        _give(done[n], rows)


def _give(future: asyncio.Future[Rows], rows: Rows) -> None:
    if not future.done():
        future.set_result(rows)


def _failed(futures: Sequence[asyncio.Future[Rows]], error: BaseException) -> None:
    """The statement that failed and those after it (not run) all give its error."""
    for future in futures:
        if not future.done():
            future.set_exception(error)


async def _finished(worker: asyncio.Future[None], done: Sequence[asyncio.Future[Rows]]) -> None:
    """Wait until the statements are over (the connection is theirs until then), even when
    the caller is cancelled meanwhile (it is cancelled after)."""
    cancelled: BaseException | None = None
    while not worker.done():
        try:
            await asyncio.shield(worker)
        except asyncio.CancelledError as error:
            cancelled = error
    for future in done:  # rows nobody asked for, or an error nobody saw
        if future.done() and not future.cancelled():
            future.exception()
    if cancelled is not None:
        raise cancelled
