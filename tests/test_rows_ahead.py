"""``rows_ahead`` (evaluation/rows_ahead.py) reads statements ahead of the caller: the rows are
those the statements give one by one, in the caller's own transaction (it sees what the
transaction wrote and has not committed), a failing statement's error reaches the caller,
and the connection is the caller's again, usable, once the block is over (also when the
caller is cancelled: only after the statements are over); on SQLite (a thread), PostgreSQL
with psycopg and with asyncpg (tasks)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import text

from evaluation import rows_ahead as rows_ahead_module
from evaluation.rows_ahead import rows_ahead
from evaluation.walk_tally import raw_rows
from models.db import Store
from scheduling.common.context import Context
from tests.helpers import seed_org_area

STATEMENTS = [
    "SELECT id, name FROM organisation WHERE name <> :other ORDER BY id",
    "SELECT COUNT(*) FROM area WHERE id IN :ids",
    "SELECT name FROM organisation WHERE id = :missing",
    "SELECT o.name, a.name FROM organisation o, area a ORDER BY o.id, a.id",
]


@pytest.fixture(params=["own driver", pytest.param("asyncpg", marks=pytest.mark.postgres)])
async def each_driver(ctx: Context, request: pytest.FixtureRequest) -> AsyncIterator[Context]:
    """The context as it is, and on PostgreSQL once more through asyncpg."""
    if request.param == "own driver":
        yield ctx
        return
    if ctx.store.engine.dialect.name != "postgresql":
        pytest.skip("asyncpg is a PostgreSQL driver")
    url = ctx.store.engine.url.set(drivername="postgresql+asyncpg")
    store = Store.open(url.render_as_string(hide_password=False))
    try:
        yield replace(ctx, store=store)
    finally:
        await store.close()


async def test_the_rows_are_those_of_each_statement_in_the_transaction(
    each_driver: Context,
) -> None:
    ctx = each_driver
    await seed_org_area(ctx)
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        await connection.execute(
            text(
                "INSERT INTO organisation (name, name_key, created_at) "
                "VALUES ('Not committed', 'not committed', :now)"
            ),
            {"now": ctx.now()},
        )
        params = {"other": "nobody", "ids": [1, 2, 3], "missing": -1}
        expected = [await raw_rows(connection, sql, params) for sql in STATEMENTS]
        async with rows_ahead(connection, STATEMENTS, params) as fetch:
            found = [await fetch(n) for n in range(len(STATEMENTS))]
        assert found == expected
        assert ("Not committed",) in [row[1:] for row in found[0]]  # the same transaction's
        assert await raw_rows(connection, STATEMENTS[1], params) == expected[1]  # usable again


async def test_rows_not_asked_for_are_left_and_the_connection_is_usable(
    each_driver: Context,
) -> None:
    ctx = each_driver
    await seed_org_area(ctx)
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        params = {"other": "nobody", "ids": [1], "missing": -1}
        async with rows_ahead(connection, STATEMENTS, params) as fetch:
            first = await fetch(0)
        assert first == await raw_rows(connection, STATEMENTS[0], params)


async def test_a_failing_statement_fails_it_and_those_after(each_driver: Context) -> None:
    ctx = each_driver
    await seed_org_area(ctx)
    statements = [STATEMENTS[0], "SELECT a_column FROM no_such_table", STATEMENTS[3]]
    errors: list[str] = []
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        async with rows_ahead(connection, statements, {"other": "nobody"}) as fetch:
            assert await fetch(0)
            for n in (2, 1):  # the one after it is not run: it gives the same error
                try:
                    await asyncio.wait_for(fetch(n), 10)
                except Exception as error:
                    errors.append(f"{type(error).__name__}: {error}")
    assert len(errors) == 2 and all("no_such_table" in e for e in errors), errors
    async with ctx.store.transaction() as session:  # the store goes on
        connection = await session.connection()
        assert await raw_rows(connection, STATEMENTS[0], {"other": "nobody"})


SLOW_SQLITE = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1500000) "
    "SELECT COUNT(*) FROM c"
)
SLOW_POSTGRES = "SELECT COUNT(*) FROM (SELECT pg_sleep(0.25)) s"


async def slow_statement(ctx: Context) -> tuple[str, float]:
    """A read that takes a while, and how long it took here (the shorter of two runs)."""
    slow = SLOW_SQLITE if ctx.store.engine.dialect.name == "sqlite" else SLOW_POSTGRES
    took = []
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        for _ in range(2):
            started = time.monotonic()
            await raw_rows(connection, slow, {})
            took.append(time.monotonic() - started)
    return slow, min(took)


async def _nothing_left_running(ctx: Context, alone: float) -> None:
    """On SQLite the statements run in ``rows_ahead``'s one worker thread: when the block has
    ended the thread is idle, so a job given to it now runs at once (were a statement still
    running, it would wait about a statement's time). Its time, not the pair's against one
    timed before: on a shared VM a computing statement's time drifts by a third within a
    minute (a pair took 1.16 times one timed at the test's start), which failed the test in
    two of five runs on unchanged code."""
    if ctx.store.engine.dialect.name != "sqlite":
        return
    asked = time.monotonic()
    await asyncio.get_running_loop().run_in_executor(rows_ahead_module._THREAD, lambda: None)
    assert time.monotonic() - asked < alone / 4, (time.monotonic() - asked, alone)


async def two_slow(ctx: Context, slow: str) -> None:
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        async with rows_ahead(connection, [slow, slow], {}) as fetch:
            await fetch(1)


@pytest.mark.parametrize("how", ["cancelled", "cancelled twice", "timed out"])
async def test_a_cancelled_caller_waits_until_the_statements_are_over(
    each_driver: Context, how: str
) -> None:
    """Cancelled meanwhile, the block ends only once both statements are over (the thread
    or the task is done with the connection: not before the second has run, so not before
    about twice one's time), and the connection is usable afterwards."""
    ctx = each_driver
    slow, alone = await slow_statement(ctx)
    for _ in range(2):
        started = time.monotonic()
        if how.startswith("cancelled"):
            task = asyncio.create_task(two_slow(ctx, slow))
            for _ in range(2 if how == "cancelled twice" else 1):  # again while it waits
                await asyncio.sleep(0.05)
                task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        else:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(two_slow(ctx, slow), 0.05)
        took = time.monotonic() - started
        await _nothing_left_running(ctx, alone)
        if ctx.store.engine.dialect.name != "sqlite":  # pg_sleep: times that hold still
            assert took > 1.5 * alone, (took, alone)
        async with ctx.store.transaction() as session:
            connection = await session.connection()
            assert await raw_rows(connection, "SELECT 5", {}) == [(5,)]
