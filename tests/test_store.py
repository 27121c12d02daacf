"""The store: aware UTC times survive a round trip; migrations match the models."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel, select

from models import sqlite_loop
from models.db import Store, schema_state, upgrade
from models.tables import Organisation
from scheduling.common.context import Context


async def test_aware_time_round_trips(ctx: Context) -> None:
    """A time stored with an offset reads back timezone-aware and equal, on either database."""
    stockholm_summer = timezone(timedelta(hours=2))
    moment = datetime(2026, 10, 24, 22, 0, 0, 123456, tzinfo=stockholm_summer)
    async with ctx.store.transaction() as session:
        session.add(Organisation(name="X", name_key="x", created_at=moment))
    async with ctx.store.sessions() as session:
        stored = (await session.exec(select(Organisation))).one().created_at
    assert stored.tzinfo is not None
    assert stored == moment
    assert stored.utcoffset() == timedelta(0)


async def test_comparisons_use_utc_instants(ctx: Context) -> None:
    """Filtering by time compares instants, whatever offset the value was given in."""
    async with ctx.store.transaction() as session:
        session.add(
            Organisation(name="A", name_key="a", created_at=datetime(2026, 1, 1, 12, tzinfo=UTC))
        )
    later_local = datetime(2026, 1, 1, 13, 30, tzinfo=timezone(timedelta(hours=1)))
    async with ctx.store.sessions() as session:
        found = (
            await session.exec(select(Organisation).where(Organisation.created_at < later_local))
        ).all()
    assert len(found) == 1


@pytest.mark.migrations  # the migrations themselves, not the session's copy of their result
async def test_migrations_match_the_models(ctx: Context) -> None:
    """After `db upgrade` the schema is at head and equals what the models declare."""
    state = await schema_state(ctx.store.engine)
    assert state.up_to_date and not state.empty

    def diff(connection):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    async with ctx.store.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_empty_database_is_reported_as_such(database_url: str) -> None:
    """A new database is empty and not up to date until upgraded."""
    store = Store.open(database_url)
    try:
        state = await schema_state(store.engine)
        assert state.empty and not state.up_to_date
        await upgrade(store.engine)
        assert (await schema_state(store.engine)).up_to_date
    finally:
        await store.close()


# --- SQLite: one connection, one trip to aiosqlite's thread per statement -------------------


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    async with store.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))
    try:
        yield store
    finally:
        await store.close()


async def test_sqlite_statements_run_on_the_loops_thread(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction's statements run on the event loop's thread (the SQL function below sees
    that thread); nothing is handed to aiosqlite's worker thread on the way."""
    handed_over: list[object] = []

    async with sqlite_store.transaction() as session:  # connect before counting
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        raw = await (await session.connection()).get_raw_connection()
        aiosqlite_connection = raw.driver_connection
        assert aiosqlite_connection is not None
        aiosqlite_connection._conn.create_function("thread_id", 0, threading.get_ident)
    queue = aiosqlite_connection._tx  # what the worker thread reads from

    class Counting:
        def put_nowait(self, item: object) -> None:
            handed_over.append(item)
            queue.put_nowait(item)  # type: ignore[arg-type]

    monkeypatch.setattr(aiosqlite_connection, "_tx", Counting())
    async with sqlite_store.transaction() as session:
        rows = (await session.exec(text("SELECT thread_id(), 2 UNION ALL SELECT 3, 4"))).all()  # type: ignore[call-overload]
    assert [tuple(row)[1] for row in rows] == [2, 4]
    assert rows[0][0] == threading.get_ident()
    assert handed_over == []


async def test_sqlite_waits_for_another_writer_without_blocking_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holding the write lock: the statement waits asynchronously (the loop
    goes on) and runs once the lock is free; a lock held past ``LOCK_WAIT_S`` is an error."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = Store.open(url), Store.open(url)  # two connections, as two processes
    try:
        async with first.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER)"))
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        async with first.engine.begin() as holder:
            await holder.execute(text("INSERT INTO t VALUES (1)"))
            waiting = asyncio.create_task(_insert(second, 2))
            await asyncio.sleep(0.3)
            assert not waiting.done() and ticks >= 10  # waiting, and the loop ran meanwhile
        await asyncio.wait_for(waiting, 5)
        monkeypatch.setattr(sqlite_loop, "LOCK_WAIT_S", 0.2)
        async with first.engine.begin():
            started = time.monotonic()
            with pytest.raises(OperationalError, match="locked"):
                await _insert(second, 3)
            assert time.monotonic() - started < 2
        ticker.cancel()
        async with second.engine.connect() as connection:
            values = (await connection.execute(text("SELECT n FROM t ORDER BY n"))).scalars()
            assert list(values) == [1, 2]
    finally:
        await first.close()
        await second.close()


async def _insert(store: Store, n: int) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})


async def test_sqlite_cursor_results_counts_and_ids(sqlite_store: Store) -> None:
    """Rows, rowcount, lastrowid and many-row inserts behave as with aiosqlite's own cursor."""
    async with sqlite_store.engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO t (n) VALUES (7)"))
        assert inserted.lastrowid == 1
        many = [{"n": n} for n in range(5)]
        await connection.execute(text("INSERT INTO t (n) VALUES (:n)"), many)
        changed = await connection.execute(text("UPDATE t SET n = n + 1 WHERE n < 3"))
        assert changed.rowcount == 3
        result = await connection.execute(text("SELECT id, n FROM t ORDER BY id"))
        assert result.keys() == ["id", "n"]
        assert [tuple(row) for row in result] == [(1, 7), (2, 1), (3, 2), (4, 3), (5, 3), (6, 4)]
        streamed = await connection.stream(text("SELECT n FROM t ORDER BY id"))
        assert [row.n async for row in streamed] == [7, 1, 2, 3, 3, 4]
        empty = await connection.execute(text("SELECT n FROM t WHERE n > 100"))
        assert empty.first() is None


async def test_sqlite_uses_one_connection_and_serialises_transactions(sqlite_store: Store) -> None:
    """Concurrent transactions take turns on the one connection: no "database is locked"
    waits, and read-then-write is never interleaved."""
    assert sqlite_store.engine.pool.size() == 1
    async with sqlite_store.engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (id, n) VALUES (1, 0)"))

    async def increment() -> None:
        async with sqlite_store.transaction() as session:
            row = (await session.exec(text("SELECT n FROM t WHERE id = 1"))).one()  # type: ignore[call-overload]
            await asyncio.sleep(0)
            await session.exec(text(f"UPDATE t SET n = {row.n + 1} WHERE id = 1"))  # type: ignore[call-overload]

    await asyncio.gather(*(increment() for _ in range(40)))
    async with sqlite_store.engine.connect() as connection:
        assert (await connection.execute(text("SELECT n FROM t"))).scalar() == 40
