"""The tick's tally refresh holds its row locks (``Store.begin_at_first_write`` around the
tick's steps, found by a review of it).

refresh_due (evaluation/tally_refresh.py) locks the listed walk_tally_due rows with
``FOR UPDATE SKIP LOCKED`` through ``raw_rows``, which runs on the driver's own cursor: the
first_write listener never sees it, so inside the ticker's lazy block the locking read runs
in autocommit and the lock is gone before the count is written. The triggers' lock order
(0020_walk_tallies._pg_list: "a refresh locks the listed rows first too, so the two never
wait for each other round") no longer holds, and two workers count the same rows. Now
``raw_rows`` sends a locking read through SQLAlchemy, so the lazy transaction begins with it.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from bot.bootstrap_ticks import make_ticker
from evaluation import tally_refresh
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from tests.world import make_world, shift_at


async def test_the_ticks_tally_refresh_holds_its_lock_on_the_listed_rows(
    ctx: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ctx.store.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-28 19:00", "2026-11-28 23:00")
    clock.set(shift.end_at + timedelta(hours=1))  # the walk is over: its tally is due
    url = ctx.store.engine.url.set(drivername="postgresql")
    libpq = url.render_as_string(hide_password=False)
    probe = "SELECT shift_id FROM walk_tally_due WHERE shift_id = %s FOR UPDATE NOWAIT"
    seen: list[str] = []
    real = tally_refresh.tallies_of

    async def tallies_of(*args, **kwargs):  # type: ignore[no-untyped-def]
        with psycopg.connect(libpq, autocommit=True) as other:  # another worker, a change
            try:
                other.execute(probe, [shift.id])
                seen.append("free")
            except psycopg.errors.LockNotAvailable:
                seen.append("locked")
        return await real(*args, **kwargs)

    monkeypatch.setattr(tally_refresh, "tallies_of", tallies_of)
    ticker = make_ticker(ctx)
    await ticker.tick()
    assert ticker.last_tick_ok
    assert seen == ["locked"]  # the refresh's FOR UPDATE SKIP LOCKED lasts until it commits


async def test_a_change_during_the_ticks_tally_refresh_does_not_deadlock(
    ctx: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A walk over, counted, then listed again with its tally kept (as ``list_other_basis``
    does after the settings change). While the tick recounts it, a coordinator's change to
    the walk (its trigger lists it and drops its tally) must wait for the count, not
    deadlock with it: with the listed row unlocked, the change takes walk_tally_due first
    and waits for walk_tally, the refresh holds walk_tally and waits for walk_tally_due."""
    import asyncio
    import threading

    if ctx.store.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-28 19:00", "2026-11-28 23:00")
    clock.set(shift.end_at + timedelta(hours=1))
    ticker = make_ticker(ctx)
    await ticker.tick()  # counts the walk's tally
    libpq = ctx.store.engine.url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(libpq, autocommit=True) as db:
        assert db.execute("SELECT COUNT(*) FROM walk_tally").fetchone() == (1,)
        db.execute(
            "INSERT INTO walk_tally_due (shift_id, due_at, gen) "
            "SELECT shift_id, end_at, 1 FROM walk_tally"
        )
    outcome: list[str] = []

    def change() -> None:  # a coordinator's edit of the walk, in a transaction of its own
        with psycopg.connect(libpq) as other:
            try:
                other.execute("UPDATE shift SET notes = 'late' WHERE id = %s", [shift.id])
                other.commit()
                outcome.append("committed")
            except psycopg.errors.DeadlockDetected:
                outcome.append("deadlock")

    real = tally_refresh._store
    thread = threading.Thread(target=change)

    async def store(connection, rows):  # type: ignore[no-untyped-def]
        await real(connection, rows)
        thread.start()
        await asyncio.sleep(0.5)  # the change runs its trigger meanwhile

    monkeypatch.setattr(tally_refresh, "_store", store)
    clock.advance(timedelta(seconds=ctx.settings.scheduling.tick_seconds))
    await ticker.tick()
    thread.join(10)
    assert outcome == ["committed"]
    assert ticker.last_tick_ok
