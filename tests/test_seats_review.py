"""A review of ``models/seats.py``: where a dialogue unit on a kept connection (a seat)
behaved otherwise than a unit on a connection of its own from the pool."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import greenlet_spawn

import models.engine
from models import seats
from models.db import Store
from scheduling.common.context import Context
from tests.test_faults import pg, terminate  # noqa: F401  (pg: the fixture)


async def _select(store: Store, *, lazy: bool = True) -> None:
    if lazy:
        async with store.unit(first_write_begins=True) as session:
            await (await session.connection()).execute(text("SELECT 1"))
    else:
        async with store.transaction() as session:
            await (await session.connection()).execute(text("SELECT 1"))


def _open(ctx: Context) -> Store:
    """A store of its own: its pool holds only the connections these tests put there."""
    store = Store.open(ctx.settings.database.url)
    if store.seats is None:
        pytest.skip("kept connections: PostgreSQL through psycopg only")
    return store


@pytest.mark.postgres
async def test_a_seat_idle_a_while_is_checked_before_use(
    pg: tuple[Context, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A seat idle for ``PING_AFTER_IDLE_S`` goes back to the pool, as the module says, so
    that the pool checks it: the pool must count the time it sat idle as a seat, not take
    it for one returned just now (a server restart meanwhile would fail the next turn's
    first statement, where a pooled connection idle that long costs nobody an error)."""
    ctx, app_name = pg
    store = _open(ctx)
    try:
        monkeypatch.setattr(models.engine, "PING_AFTER_IDLE_S", 0.3)
        monkeypatch.setattr(seats, "PING_AFTER_IDLE_S", 0.3)
        await _select(store)
        await asyncio.sleep(0.5)  # idle a while; the server restarts
        assert terminate("application_name = %s", app_name) >= 1
        await _select(store)
    finally:
        await store.close()


@pytest.mark.postgres
async def test_a_drop_found_outside_a_seat_replaces_the_idle_seats(
    pg: tuple[Context, str],  # noqa: F811
) -> None:
    """When a statement outside the seats finds the connection dropped (a webhook's, the
    ticker's), the pool replaces every connection older than the failure at its checkout
    (models/engine.py); an idle seat is as old and must not be taken either."""
    ctx, app_name = pg
    store = _open(ctx)
    try:
        both = asyncio.Barrier(2)

        async def hold(lazy: bool) -> None:
            if lazy:
                async with store.unit(first_write_begins=True) as session:
                    await (await session.connection()).execute(text("SELECT 1"))
                    await both.wait()
            else:
                async with store.transaction() as session:
                    await (await session.connection()).execute(text("SELECT 1"))
                    await both.wait()

        await asyncio.gather(hold(True), hold(False))
        assert store.seats is None or len(store.seats.idle) == 1
        assert terminate("application_name = %s", app_name) >= 2  # the server restarted
        with pytest.raises(DBAPIError) as failed:
            await _select(store, lazy=False)  # used moments ago: not checked, fails
        assert failed.value.connection_invalidated
        await _select(store)  # the next turn
    finally:
        await store.close()


async def test_a_unit_cancelled_twice_gives_its_connection_back(ctx: Context) -> None:
    """A turn cancelled, and cancelled again while it ends (the bot stopping while a
    timeout fires): its connection still goes back to the pool, as a session's shielded
    close gives it back."""
    store = _open(ctx)
    pool = store.engine.sync_engine.pool
    try:
        for later in range(12):
            entered = asyncio.Event()

            async def stuck(entered: asyncio.Event) -> None:
                async with store.unit(first_write_begins=True) as session:
                    connection = await session.connection()
                    await connection.execute(text("SET LOCAL work_mem = '4MB'"))
                    entered.set()
                    await asyncio.sleep(60)

            task = asyncio.create_task(stuck(entered))
            await entered.wait()
            task.cancel()
            for _ in range(later):
                await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.05)
            idle = len(store.seats.idle) if store.seats is not None else 0
            assert pool.checkedout() == idle, later
        await _select(store)
    finally:
        await store.close()


async def test_seats_idle_a_while_go_back_without_another_turn(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seat idle for ``PING_AFTER_IDLE_S`` goes back to the pool whether or not another
    turn comes: until then it is a connection checked out for nobody. After a burst of
    turns ``KEPT`` of the pool's connections would otherwise stay out of reach of every
    other use (webhooks, the dispatcher, the ticker) for as long as no turn follows: with
    that many fewer, their checkouts wait where the pool has room for them all."""
    store = _open(ctx)
    monkeypatch.setattr(seats, "PING_AFTER_IDLE_S", 0.2)
    pool = store.engine.sync_engine.pool
    monkeypatch.setattr(pool, "_timeout", 1.0)
    try:
        burst = asyncio.Barrier(seats.KEPT)

        async def turn() -> None:
            async with store.unit(first_write_begins=True) as session:
                await (await session.connection()).execute(text("SELECT 1"))
                await burst.wait()

        await asyncio.gather(*(turn() for _ in range(seats.KEPT)))
        await asyncio.sleep(0.5)  # no turn since
        room = pool.size() + pool._max_overflow - seats.KEPT + 1  # type: ignore[attr-defined]
        together = asyncio.Barrier(room)

        async def hold() -> None:
            async with store.transaction() as session:
                await (await session.connection()).execute(text("SELECT 1"))
                await asyncio.wait_for(together.wait(), 3)

        results = await asyncio.gather(*(hold() for _ in range(room)), return_exceptions=True)
        assert [r for r in results if r is not None] == []
    finally:
        await store.close()


async def test_a_unit_ending_after_the_store_closed_keeps_no_seat(ctx: Context) -> None:
    """A turn still running when the store closes: its connection is not kept as a seat
    of a closed store (nobody would give it back)."""
    store = _open(ctx)
    entered, go_on = asyncio.Event(), asyncio.Event()

    async def turn() -> None:
        async with store.unit(first_write_begins=True) as session:
            await (await session.connection()).execute(text("SELECT 1"))
            entered.set()
            await go_on.wait()

    task = asyncio.create_task(turn())
    await entered.wait()
    pool = store.engine.sync_engine.pool
    await store.close()
    go_on.set()
    await task
    kept = store.seats.idle if store.seats is not None else []
    for seat in kept:  # what the garbage collector would find open
        await seat.connection.close()
    await greenlet_spawn(pool.dispose)  # the closed pool, where the unit's connection went
    assert kept == []
