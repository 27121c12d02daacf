"""More of what the tick's shared connection (``Store.one_connection``) must not change, found
by a review of it: a tick cancelled mid-step (the worker stops) leaves no transaction, lock or
checked-out connection, and the pool's connections out of autocommit; a locking read holds
its lock until its transaction commits; random steps (writes, lone writes, locks, nested
transactions, savepoints, failures, tasks) leave the store as each transaction alone would."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event, text

from models import first_write
from models.tables import Shift
from scheduling.common.context import Context
from tests.test_tick_connection import _checked_out, _on_psycopg, _other, _set_notes, _ticker
from tests.world import make_world, shift_at, stored_row

UPDATE = text("UPDATE shift SET notes = :notes WHERE id = :id")


async def _pool_in_autocommit(ctx: Context) -> list[bool]:
    """For every connection in the pool: whether it is in autocommit (each one usable)."""
    connections, flags = [], []
    for _ in range(ctx.store.engine.sync_engine.pool.checkedin()):  # type: ignore[attr-defined]
        connection = await ctx.store.engine.connect()
        raw = await connection.get_raw_connection()
        flags.append(bool(raw.driver_connection.autocommit))  # type: ignore[union-attr]
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1
        await connection.rollback()
        connections.append(connection)
    for connection in connections:
        await connection.close()
    return flags


def _ours(ctx: Context) -> set[int]:
    """The server processes of every connection the store hands out from now on (other
    clients of the server, another test's, are left out of what ``_in_transaction`` finds)."""
    pids: set[int] = set()

    def checked_out(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        pids.add(dbapi_connection.info.backend_pid)

    event.listen(ctx.store.engine.sync_engine.pool, "checkout", checked_out)
    return pids


def _in_transaction(ctx: Context, ours: set[int]) -> list[tuple[Any, ...]]:
    """This store's connections left inside a transaction."""
    with _other(ctx) as other:
        return other.execute(
            "SELECT pid, state, query FROM pg_stat_activity"
            " WHERE state LIKE 'idle in%%' AND pid = ANY(%s)",
            [list(ours)],
        ).fetchall()


def _cancelled_step(shift_id: int, where: str, entered: asyncio.Event) -> Any:
    """A step cancelled while it holds a row lock, while a query runs, or between its
    transactions."""

    async def step(ctx: Context) -> None:
        if where == "between":
            async with ctx.store.joined() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            entered.set()
            await asyncio.sleep(10)
        async with ctx.store.transaction() as session:
            found = await session.get(Shift, shift_id, with_for_update=True)
            assert found is not None
            found.notes = "cancelled"
            session.add(found)
            await session.flush()
            entered.set()
            if where == "query":
                await session.exec(text("SELECT pg_sleep(5)"))  # type: ignore[call-overload]
            await asyncio.sleep(10)

    return step


@pytest.mark.parametrize("where", ["lock", "query", "between"])
async def test_a_tick_cancelled_mid_step_leaves_nothing_behind(ctx: Context, where: str) -> None:
    _on_psycopg(ctx)
    ours = _ours(ctx)
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00")
    entered = asyncio.Event()
    ticker = _ticker(ctx, _cancelled_step(shift.id or 0, where, entered))
    task = asyncio.get_running_loop().create_task(ticker.tick())
    await entered.wait()
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _checked_out(ctx) == 0
    assert _in_transaction(ctx, ours) == []
    with _other(ctx) as other:  # the lock is gone
        other.execute("SET lock_timeout = '500ms'")
        other.execute("UPDATE shift SET notes = 'probe' WHERE id = %s", [shift.id])
    assert not any(await _pool_in_autocommit(ctx))
    after = _ticker(ctx, _set_notes(shift.id or 0, "after"))
    await after.tick()
    assert after.last_tick_ok
    assert (await stored_row(ctx, Shift, shift.id or 0)).notes == "after"


async def test_a_locking_read_holds_its_lock_until_its_transaction_ends(ctx: Context) -> None:
    """After a read-only transaction on the shared connection, a step's FOR UPDATE SKIP
    LOCKED is held (another worker skips the row) until the step's transaction commits."""
    _on_psycopg(ctx)
    ours = _ours(ctx)
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00")
    claim = "SELECT id FROM shift WHERE id = %s FOR UPDATE SKIP LOCKED"
    seen: list[object] = []

    async def reads(ctx: Context) -> None:
        async with ctx.store.joined() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]

    async def claims(ctx: Context) -> None:
        async with ctx.store.transaction() as session:
            mine = await session.exec(  # type: ignore[call-overload]
                text(claim.replace("%s", ":id")), params={"id": shift.id}
            )
            assert mine.all()
            with _other(ctx) as other:
                seen.append(other.execute(claim, [shift.id]).fetchall())

    ticker = _ticker(ctx, reads, claims, reads, claims)
    await ticker.tick()
    assert ticker.last_tick_ok
    assert seen == [[], []]
    assert _in_transaction(ctx, ours) == []


class Failed(Exception):
    """A step's failure the random steps make on purpose."""


Op = Callable[[Context, int, int, str, dict[int, str | None]], Awaitable[None]]


async def _write(ctx: Context, shift_id: int, notes: str, **options: Any) -> None:
    async with ctx.store.transaction() as session:
        await session.exec(  # type: ignore[call-overload]
            UPDATE, params={"notes": notes, "id": shift_id}, execution_options=options
        )


async def _op_write(ctx: Context, a: int, _b: int, v: str, want: dict[int, str | None]) -> None:
    await _write(ctx, a, v)
    want[a] = v


async def _op_lone(ctx: Context, a: int, _b: int, v: str, want: dict[int, str | None]) -> None:
    await _write(ctx, a, v, **{first_write.LONE_WRITE: True})
    want[a] = v


async def _op_read(ctx: Context, a: int, _b: int, _v: str, want: dict[int, str | None]) -> None:
    async with ctx.store.joined() as session:
        found = await session.get(Shift, a)
        assert found is not None and found.notes == want[a], (found, want[a])
        _HELD.append(found)  # held, as a step's result may hold what it loaded


async def _op_lock(ctx: Context, a: int, _b: int, v: str, want: dict[int, str | None]) -> None:
    async with ctx.store.transaction() as session:
        found = await session.get(Shift, a, with_for_update=True)
        assert found is not None
        found.notes = v
        session.add(found)
    want[a] = v


async def _op_nested(ctx: Context, a: int, b: int, v: str, want: dict[int, str | None]) -> None:
    async with ctx.store.transaction() as session:
        await session.exec(UPDATE, params={"notes": v, "id": a})  # type: ignore[call-overload]
        await _write(ctx, b, v + "i")
    want[a], want[b] = v, v + "i"


async def _op_fail(ctx: Context, a: int, _b: int, v: str, _want: dict[int, str | None]) -> None:
    with pytest.raises(Failed):
        async with ctx.store.transaction() as session:
            await session.exec(UPDATE, params={"notes": v, "id": a})  # type: ignore[call-overload]
            raise Failed


async def _op_savepoint(ctx: Context, a: int, b: int, v: str, want: dict[int, str | None]) -> None:
    async with ctx.store.transaction() as session:
        await session.exec(UPDATE, params={"notes": v, "id": a})  # type: ignore[call-overload]
        with pytest.raises(Failed):
            async with session.begin_nested():
                await session.exec(  # type: ignore[call-overload]
                    UPDATE, params={"notes": v + "x", "id": b}
                )
                raise Failed
    want[a] = v


async def _op_tasks(ctx: Context, a: int, b: int, v: str, want: dict[int, str | None]) -> None:
    await asyncio.get_running_loop().create_task(_write(ctx, a, v))
    await asyncio.gather(_write(ctx, a, v + "g"), _write(ctx, b, v + "h"))
    want[a], want[b] = v + "g", v + "h"


OPS: list[Op] = [
    _op_write,
    _op_lone,
    _op_read,
    _op_lock,
    _op_nested,
    _op_fail,
    _op_savepoint,
    _op_tasks,
]
_HELD: list[Shift] = []


def _random_step(
    rng: random.Random, ids: list[int], want: dict[int, str | None], tag: str, odd: list[str]
) -> Any:
    plan = [(rng.choice(OPS), *rng.sample(ids, 2), f"{tag}.{n}") for n in range(rng.randint(1, 4))]
    fails = rng.random() < 0.2

    async def step(ctx: Context) -> None:
        try:
            for op, a, b, value in plan:
                await op(ctx, a, b, value, want)
        except BaseException as error:  # the ticker logs it; the test must see it
            odd.append(repr(error))
            raise
        if fails:
            raise Failed("the step fails at its end, outside its transactions")

    return step


async def test_random_steps_leave_the_store_as_their_transactions_would(ctx: Context) -> None:
    _on_psycopg(ctx)
    ours = _ours(ctx)
    rng = random.Random(int(os.environ.get("VANDRA_TEST_SEED", "7")))
    world = await make_world(ctx, walkers=1)
    days = range(24, 31)
    ids = [(await shift_at(ctx, world, f"2026-11-{d} 19:00", f"2026-11-{d} 23:00")).id or 0
           for d in days]  # fmt: skip
    want: dict[int, str | None] = {i: (await stored_row(ctx, Shift, i)).notes for i in ids}
    odd: list[str] = []
    for tick in range(30):
        count = rng.randint(1, 6)
        steps = [_random_step(rng, ids, want, f"{tick}.{n}", odd) for n in range(count)]
        await _ticker(ctx, *steps).tick()
        assert odd == []
        assert {i: (await stored_row(ctx, Shift, i)).notes for i in ids} == want, tick
        assert _checked_out(ctx) == 0
        assert _in_transaction(ctx, ours) == []
    assert not any(await _pool_in_autocommit(ctx))
