"""The scheduler's tick runs its steps' transactions one after another on one connection
(``Store.one_connection``, PostgreSQL through psycopg), with one session: a pool checkout and
its isolation level set and reset cost the loop about 0.3 ms each, a session 0.1 ms, some
twenty times a tick.

What sharing must not change: each transaction commits or rolls back alone, and between them
the connection holds no transaction (no lock, no snapshot) and the session none of the rows
it loaded; a connection that broke costs only
the step it broke in; a transaction begun inside another still has a connection of its own;
a task started by a step does not take the tick's connection, and the tick puts it back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.pool import QueuePool

from models.tables import Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.workers.ticker import Ticker
from tests.test_tick_statements import steady_ticker
from tests.test_turn_statements import sent_by_psycopg
from tests.world import make_world, shift_at, stored_row

Step = Callable[[Context], Awaitable[object]]


def _on_psycopg(ctx: Context) -> None:
    if ctx.store.engine.dialect.driver != "psycopg":
        pytest.skip("one connection per tick: PostgreSQL through psycopg")


def _other(ctx: Context) -> psycopg.Connection[tuple[object, ...]]:
    """Another client of the same store, as another worker would be."""
    url = ctx.store.engine.url.set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _checked_out(ctx: Context) -> int:
    """How many of the store's pooled connections are in use."""
    pool = ctx.store.engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def _ticker(ctx: Context, *steps: Step) -> Ticker:
    ticker = Ticker(ctx)
    for number, step in enumerate(steps):
        ticker.add_step(f"step{number}", step)
    return ticker


def _set_notes(shift_id: int, notes: str, fail: bool = False) -> Step:
    """A step that writes the shift's notes in a transaction (and then fails, if asked)."""

    async def step(ctx: Context) -> None:
        async with ctx.store.transaction() as session:
            await session.exec(  # type: ignore[call-overload]
                text("UPDATE shift SET notes = :notes WHERE id = :id"),
                params={"notes": notes, "id": shift_id},
            )
            if fail:
                raise RuntimeError("the step failed after writing")

    return step


async def test_a_steady_tick_takes_one_connection_from_the_pool(
    ctx: Context, clock: ManualClock
) -> None:
    _on_psycopg(ctx)
    ticker = await steady_ticker(ctx, clock)
    pool = ctx.store.engine.sync_engine.pool
    checkouts: list[object] = []

    def checked_out(*args: object) -> None:
        checkouts.append(args)

    event.listen(pool, "checkout", checked_out)
    try:
        await ticker.tick()
    finally:
        event.remove(pool, "checkout", checked_out)
    assert ticker.last_tick_ok
    assert len(checkouts) == 1, "each step and rule took a connection of its own"
    assert _checked_out(ctx) == 0  # put back at the end


async def test_a_steps_write_is_committed_and_unlocked_before_the_next_step(
    ctx: Context,
) -> None:
    """A step that locked and wrote a row: the next step finds it committed and free from
    another connection (the shared connection is not left inside the step's transaction)."""
    _on_psycopg(ctx)
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00")
    seen: list[object] = []

    async def locks_and_writes(ctx: Context) -> None:
        async with ctx.store.transaction() as session:
            found = await session.get(Shift, shift.id, with_for_update=True)
            assert found is not None
            found.notes = "first"
            session.add(found)

    async def probes(_ctx: Context) -> None:
        with _other(ctx) as other:
            probe = "SELECT notes FROM shift WHERE id = %s FOR UPDATE NOWAIT"
            seen.append(other.execute(probe, [shift.id]).fetchone())

    ticker = _ticker(ctx, locks_and_writes, probes)
    await ticker.tick()
    assert ticker.last_tick_ok
    assert seen == [("first",)]


async def test_a_step_reads_rows_as_they_stand_not_as_an_earlier_step_loaded_them(
    ctx: Context,
) -> None:
    """One step loads a shift, another client changes it, the next step loads it again: it
    sees the change (the steps' transactions share a session, not what it loaded)."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00")
    seen: list[str | None] = []
    loaded: list[Shift] = []  # held, as a step's result may hold what it loaded

    async def loads(ctx: Context) -> None:
        async with ctx.store.transaction() as session:
            found = await session.get(Shift, shift.id)
            assert found is not None
            seen.append(found.notes)
            loaded.append(found)

    async def changes(ctx: Context) -> None:
        async with ctx.store.sessions() as session, session.begin():
            await session.exec(  # type: ignore[call-overload]
                text("UPDATE shift SET notes = 'changed' WHERE id = :id"),
                params={"id": shift.id},
            )

    ticker = _ticker(ctx, loads, changes, loads)
    await ticker.tick()
    assert ticker.last_tick_ok
    assert seen == [shift.notes, "changed"]


async def test_a_failed_step_undoes_only_its_own_writes(ctx: Context) -> None:
    """One step writes, the next writes and fails, the one after writes on: the first and
    the last are kept, the failed one's write is not (on both databases)."""
    world = await make_world(ctx, walkers=1)
    shifts = [
        await shift_at(ctx, world, f"2026-11-{day} 19:00", f"2026-11-{day} 23:00")
        for day in (28, 29, 30)
    ]
    ids = [shift.id or 0 for shift in shifts]
    ticker = _ticker(
        ctx,
        _set_notes(ids[0], "kept"),
        _set_notes(ids[1], "undone", fail=True),
        _set_notes(ids[2], "kept too"),
    )
    await ticker.tick()
    assert not ticker.last_tick_ok
    notes = [(await stored_row(ctx, Shift, shift_id)).notes for shift_id in ids]
    assert notes == ["kept", shifts[1].notes, "kept too"]


async def test_a_broken_connection_costs_only_its_step(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tick's connection is ended under it (a server restart, an administrator): that
    step fails, the next runs on another connection, set up as the first was (its reads
    without BEGIN and COMMIT), and writes."""
    _on_psycopg(ctx)
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00")

    async def is_ended(ctx: Context) -> None:
        async with ctx.store.transaction() as session:
            pid = (await session.exec(text("SELECT pg_backend_pid()"))).one()[0]  # type: ignore[call-overload]
            with _other(ctx) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]

    sent: list[str] = []

    async def reads(ctx: Context) -> None:
        with sent_by_psycopg(monkeypatch) as commands:
            async with ctx.store.transaction() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        sent.extend(commands)

    ticker = _ticker(ctx, is_ended, reads, _set_notes(shift.id or 0, "after"))
    await ticker.tick()
    assert not ticker.last_tick_ok
    assert sent == ["SELECT"]
    assert (await stored_row(ctx, Shift, shift.id or 0)).notes == "after"
    assert _checked_out(ctx) == 0


async def test_a_transaction_inside_another_commits_on_its_own(ctx: Context) -> None:
    """Inside a step's transaction another one begins (as a use case called from it might):
    it has a connection of its own and commits whatever becomes of the outer one. (SQLite
    has one connection: a use case there never opens one transaction inside another.)"""
    _on_psycopg(ctx)
    world = await make_world(ctx, walkers=1)
    outer_shift = await shift_at(ctx, world, "2026-11-28 19:00", "2026-11-28 23:00")
    inner_shift = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00")

    async def nested(ctx: Context) -> None:
        async with ctx.store.transaction() as session:
            await session.exec(  # type: ignore[call-overload]
                text("UPDATE shift SET notes = 'outer' WHERE id = :id"),
                params={"id": outer_shift.id},
            )
            await _set_notes(inner_shift.id or 0, "inner")(ctx)
            raise RuntimeError("the outer transaction fails")

    ticker = _ticker(ctx, nested)
    await ticker.tick()
    assert not ticker.last_tick_ok
    assert (await stored_row(ctx, Shift, inner_shift.id or 0)).notes == "inner"
    assert (await stored_row(ctx, Shift, outer_shift.id or 0)).notes == outer_shift.notes


async def test_a_task_a_step_starts_takes_no_part_in_the_ticks_connection(
    ctx: Context,
) -> None:
    """A step starts a task that outlives the tick (the tallies' catch-up does): its
    transaction takes a connection of its own, and every connection goes back."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00")
    started: list[asyncio.Task[None]] = []
    tick_over = asyncio.Event()

    async def later(ctx: Context) -> None:
        await tick_over.wait()
        await _set_notes(shift.id or 0, "later")(ctx)

    async def starts_a_task(ctx: Context) -> None:
        started.append(asyncio.get_running_loop().create_task(later(ctx)))

    ticker = _ticker(ctx, starts_a_task)
    await ticker.tick()
    tick_over.set()
    await started[0]
    assert ticker.last_tick_ok
    assert (await stored_row(ctx, Shift, shift.id or 0)).notes == "later"
    assert _checked_out(ctx) == 0
