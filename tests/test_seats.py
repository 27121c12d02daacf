"""Connections kept for the dialogue's units between turns (``models/seats.py``).

On PostgreSQL through psycopg a lazy unit that ends well keeps its connection for the next;
these tests hold the seats to the pool's own guarantees: a unit starts with an empty
session, a failed unit's connection goes back to the pool, a seat idle too long is not
used, a dropped connection sends every idle seat back, no more than ``KEPT`` wait, and
closing the store gives them all back. Elsewhere (SQLite, asyncpg) there are no seats.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from models import seats
from models.db import Store
from models.tables import Person
from scheduling.common.context import Context
from tests.helpers import seed_org_area
from tests.world import person


def _seated(ctx: Context) -> Store:
    if ctx.store.seats is None:
        pytest.skip("kept connections: PostgreSQL through psycopg only")
    return ctx.store


@contextmanager
def checkouts(store: Store) -> Iterator[list[int]]:
    """How many connections units take from the pool meanwhile."""
    taken: list[int] = []

    def count(*_: Any) -> None:
        taken.append(1)

    pool = store.engine.sync_engine.pool
    event.listen(pool, "checkout", count)
    try:
        yield taken
    finally:
        event.remove(pool, "checkout", count)


async def _backend(store: Store) -> int:
    async with store.unit(first_write_begins=True) as session:
        pid = (await (await session.connection()).execute(text("SELECT pg_backend_pid()"))).one()
        return int(pid[0])


async def test_consecutive_units_share_a_kept_connection(ctx: Context) -> None:
    """The second unit takes the first one's connection, not one from the pool, and its
    session holds nothing the first one loaded."""
    store = _seated(ctx)
    org, _ = await seed_org_area(ctx)
    walker = await person(ctx, "Vera", org=org, telegram_id=4711)
    first = await _backend(store)
    with checkouts(store) as taken:
        async with store.unit(first_write_begins=True) as session:
            assert len(session.identity_map) == 0
            loaded = await session.get(Person, walker.id)  # held here, not only weakly there
            assert loaded is not None
        async with store.unit(first_write_begins=True) as session:
            assert len(session.identity_map) == 0 and loaded not in session
        assert await _backend(store) == first
    assert taken == []


async def test_a_failed_unit_gives_its_connection_back(ctx: Context) -> None:
    """A unit that fails is not kept: the next takes a connection from the pool, and the
    failed one's is back in the pool, rolled back."""
    store = _seated(ctx)
    await _backend(store)
    pool = store.engine.sync_engine.pool
    out = pool.checkedout()
    with pytest.raises(RuntimeError), checkouts(store) as taken:
        async with store.unit(first_write_begins=True) as session:
            await (await session.connection()).execute(text("SELECT 1"))
            raise RuntimeError("the turn failed")
    assert pool.checkedout() == out - 1 and store.seats is not None and not store.seats.idle
    with checkouts(store) as taken:
        await _backend(store)
    assert taken == [1]


async def test_a_seat_idle_too_long_goes_back_to_the_pool(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the pool checks a connection idle for a while, a seat idle that long is not used:
    it goes back to the pool and the unit takes one from there."""
    store = _seated(ctx)
    await _backend(store)
    monkeypatch.setattr(seats, "PING_AFTER_IDLE_S", 0.0)
    with checkouts(store) as taken:
        await _backend(store)
    assert taken == [1]


async def test_a_dropped_connection_sends_every_idle_seat_back(ctx: Context) -> None:
    """A unit that failed because its connection dropped: the idle seats are older than the
    failure, so they all go back to the pool (which replaces those at their checkout)."""
    store = _seated(ctx)
    barrier = asyncio.Barrier(3)

    async def together() -> None:
        async with store.unit(first_write_begins=True) as session:
            await (await session.connection()).execute(text("SELECT 1"))
            await barrier.wait()

    await asyncio.gather(together(), together(), together())
    assert store.seats is not None and len(store.seats.idle) == 3
    with pytest.raises(OperationalError):
        async with store.unit(first_write_begins=True):
            raise OperationalError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert store.seats.idle == []


async def test_no_more_than_kept_seats_wait(ctx: Context) -> None:
    """After a burst of units at once, ``KEPT`` keep their connections; the others' go back
    to the pool."""
    store = _seated(ctx)
    many = seats.KEPT + 3
    barrier = asyncio.Barrier(many)

    async def together() -> None:
        async with store.unit(first_write_begins=True) as session:
            await (await session.connection()).execute(text("SELECT 1"))
            await barrier.wait()

    await asyncio.gather(*(together() for _ in range(many)))
    assert store.seats is not None and len(store.seats.idle) == seats.KEPT
    assert store.engine.sync_engine.pool.checkedin() >= 3


async def test_a_cancelled_unit_gives_its_connection_back(ctx: Context) -> None:
    """A turn cancelled in the middle (the bot stopping) is not kept either."""
    store = _seated(ctx)
    await _backend(store)
    pool = store.engine.sync_engine.pool
    out = pool.checkedout()
    entered = asyncio.Event()

    async def stuck() -> None:
        async with store.unit(first_write_begins=True) as session:
            await (await session.connection()).execute(text("SELECT 1"))
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(stuck())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.checkedout() == out - 1 and store.seats is not None and not store.seats.idle


async def test_closing_the_store_gives_the_seats_back(ctx: Context) -> None:
    """``Store.close`` gives every idle seat back before the pool is closed (none is left
    for the garbage collector to find, which the suite would report as an error)."""
    _seated(ctx)
    store = Store.open(ctx.settings.database.url)
    await _backend(store)
    assert store.seats is not None and len(store.seats.idle) == 1
    kept = store.seats.idle[0]
    await store.close()
    assert store.seats.idle == [] and kept.connection.closed
