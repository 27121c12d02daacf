"""What the scheduler's tick sends PostgreSQL (psycopg): its steps' transactions begin at their
first write or lock (``Store.begin_at_first_write``, ``models/first_write.py``).

A tick runs some twenty steps and rules, each in a transaction of its own, and on most ticks
none of them finds anything to do. Each of those transactions was a BEGIN and a COMMIT round
trip around its reads; now a step that only reads sends neither, and one that writes sends
BEGIN with its first write and COMMIT at its end, so what it writes still commits together
or not at all. SQLite is unchanged (its transactions take the write lock up front).
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from sqlmodel import select

from bot.bootstrap_ticks import make_ticker
from models.tables import Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.kinds import Kind
from scheduling.walks import signups
from scheduling.workers.ticker import Ticker
from tests.test_turn_statements import sent_by_psycopg
from tests.world import make_world, outbox, shift_at


def _on_psycopg(ctx: Context) -> None:
    if ctx.store.engine.dialect.driver != "psycopg":
        pytest.skip("counts what psycopg sends")


async def steady_ticker(ctx: Context, clock: ManualClock) -> Ticker:
    """A ticker past its first tick (which catches up), one tick interval on, with a shift a
    week ahead and a walker on it: its next tick has nothing to do."""
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-12-04 19:00", "2026-12-04 23:00", min_walkers=1)
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    ticker = make_ticker(ctx)
    await ticker.tick()
    clock.advance(timedelta(seconds=ctx.settings.scheduling.tick_seconds))
    return ticker


async def test_a_tick_with_nothing_to_do_begins_no_transaction(
    ctx: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shift a week ahead with its walkers: after the first tick (which catches up), a
    tick's reads go without BEGIN or COMMIT. Two statements write on every tick (the
    reminders' done marks, an insert that usually inserts nothing, and the clean-up of
    numbers shared for walks that are over); each stands alone (``LONE_WRITE``: a mark
    whose entry planned no reminder, one DELETE) and goes without a transaction, where
    each began its step's ("BEGIN; INSERT", a COMMIT) before, and every step's transaction
    was a BEGIN and a COMMIT before that (about twenty of each)."""
    _on_psycopg(ctx)
    ticker = await steady_ticker(ctx, clock)
    with sent_by_psycopg(monkeypatch) as commands:
        await ticker.tick()
    assert ticker.last_tick_ok
    sent = " | ".join(commands)
    assert commands.count("SELECT") >= 15, sent  # the steps' reads
    assert "INSERT" in commands and "DELETE" in commands, sent  # the two writes, alone
    assert not [c for c in commands if c.startswith("BEGIN")], sent
    assert commands.count("COMMIT") == 0, sent


async def test_a_tick_that_writes_begins_with_its_first_write_and_commits(
    ctx: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the 24 h reminder's moment the rule that writes sends BEGIN with its first write
    (riding in the same round trip) and a COMMIT; the reminder is in the outbox."""
    _on_psycopg(ctx)
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00", min_walkers=1)
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    ticker = make_ticker(ctx)
    clock.set(shift.start_at - timedelta(hours=24, seconds=5))
    await ticker.tick()
    clock.set(shift.start_at - timedelta(hours=24))
    with sent_by_psycopg(monkeypatch) as commands:
        await ticker.tick()
    assert ticker.last_tick_ok
    begun = [c for c in commands if c.startswith("BEGIN")]
    assert begun and all(c.startswith("BEGIN; ") for c in begun)  # never a round trip alone
    assert commands.count("COMMIT") == len(begun)
    reminders = await outbox(ctx, Kind.REMINDER)
    assert [m.person_id for m in reminders] == [world.walkers[0].id]


async def test_a_lazy_transaction_that_fails_leaves_nothing(ctx: Context) -> None:
    """Inside ``begin_at_first_write`` a transaction that wrote and then failed is rolled
    back whole, as any transaction is."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00")
    with ctx.store.begin_at_first_write(), pytest.raises(RuntimeError):
        async with ctx.store.transaction() as session:
            found = await session.get(Shift, shift.id)
            assert found is not None
            found.notes = "changed"
            session.add(found)
            await session.flush()
            raise RuntimeError("the step failed after writing")
    async with ctx.store.transaction() as session:
        again = (await session.exec(select(Shift).where(Shift.id == shift.id))).one()
    assert again.notes != "changed"


async def test_a_lazy_transactions_lock_lasts_until_it_ends(ctx: Context) -> None:
    """A locking read begins the transaction (``SELECT ... FOR UPDATE`` is not run in
    autocommit): another connection cannot take the row's lock until the block ends."""
    _on_psycopg(ctx)
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-29 19:00", "2026-11-29 23:00")
    url = ctx.store.engine.url.set(drivername="postgresql")
    libpq = url.render_as_string(hide_password=False)
    locking = select(Shift).where(Shift.id == shift.id).with_for_update()
    nowait = "SELECT id FROM shift WHERE id = %s FOR UPDATE NOWAIT"
    with psycopg.connect(libpq, autocommit=True) as other:
        with ctx.store.begin_at_first_write():
            async with ctx.store.transaction() as session:
                (await session.exec(locking)).one()
                with pytest.raises(psycopg.errors.LockNotAvailable):
                    other.execute(nowait, [shift.id])
        other.execute(nowait, [shift.id])  # free once the block ended
