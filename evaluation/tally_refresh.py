"""Keeping the walk tallies (``models/tally_tables.py``) counted.

Database triggers list a shift in ``walk_tally_due`` whenever a row its figures come from
changes; ``refresh_due`` counts the tallies of shifts listed there that have ended, from the
raw rows, writes them, and takes a shift off the list only if nothing changed it meanwhile
(its ``gen`` is still the one read). On PostgreSQL the listed rows are locked first (a
change's trigger lists the shift before it drops the tally, so a change made meanwhile waits
for the count and then drops it); SQLite has one writer at a time. A shift without a tally
is counted from the raw rows by the statistics (tally_sums.py), so however late a refresh
comes, the figures are those of the raw rows.

The ticker runs ``tally_step``: a few shifts in place (the ones that just ended, or were
changed after they ended); a larger backlog (after the upgrade that added the tallies, or a
walker's "trained" changed on hundreds of walks) is counted by ``catch_up_tallies`` in an
evaluation worker process (off_loop.py), one batch per transaction, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import bindparam, cast, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col
from sqlmodel.sql.sqltypes import UTCDateTime

from evaluation.off_loop import off_loop, shares_a_file
from evaluation.tally_rows import basis, rows_of
from evaluation.walk_tally import raw_rows, tallies_of
from models.tables import Shift
from models.tally_tables import WalkTally
from scheduling.common.context import Context

log = logging.getLogger("vandra.tallies")

TICK_BATCH = 50  # shifts counted in place by a tick (on the event loop)
CATCH_UP_BATCH = 2_000  # shifts per transaction in the worker process

_DUE = "SELECT shift_id, gen FROM walk_tally_due WHERE due_at <= :now ORDER BY due_at LIMIT :limit"
COPIED = ("start_at", "end_at", "organisation_id", "area_id", "risk_night")


async def refresh_due(ctx: Context, limit: int) -> int:
    """Count and store the tallies of up to ``limit`` ended shifts listed as due; how many
    were listed."""
    now = ctx.now()
    required = ctx.settings.walks.trained_walkers_per_shift
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        params = {"now": now, "limit": limit}
        due = await raw_rows(connection, _DUE, params)  # most ticks: nothing due, no lock
        if due and connection.dialect.name == "postgresql":  # lock them, skipping the taken:
            due = await raw_rows(connection, _DUE + " FOR UPDATE SKIP LOCKED", params)
        if not due:
            return 0
        tallies = await tallies_of(connection, [row[0] for row in due], now, required)
        rows = rows_of(tallies, ctx.zone)
        stamp = {"basis": basis(ctx.zone, required), "counted_at": now}
        await _store(connection, [row | stamp for row in rows])
        await connection.execute(
            text("DELETE FROM walk_tally_due WHERE shift_id = :shift_id AND gen = :gen"),
            [{"shift_id": shift_id, "gen": gen} for shift_id, gen in due],
        )
    return len(due)


async def _store(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Insert or replace the rows, each with its shift's times, organisation, area and risk
    night copied as they stand (in this transaction)."""
    if not rows:
        return
    names = [name for name in rows[0] if name != "shift_id"]
    columns = WalkTally.__table__.columns  # type: ignore[attr-defined]
    values = [
        bindparam(name, type_=UTCDateTime) if name == "counted_at"
        else cast(bindparam(name), columns[name].type)
        for name in names
    ]  # fmt: skip
    chosen = select(col(Shift.id), *values, *(getattr(Shift, c) for c in COPIED)).where(
        col(Shift.id) == bindparam("shift_id")
    )
    dialect: Any = sqlite if connection.dialect.name == "sqlite" else postgresql
    statement = dialect.insert(WalkTally).from_select(["shift_id", *names, *COPIED], chosen)
    replaced = {name: statement.excluded[name] for name in [*names, *COPIED]}
    await connection.execute(
        statement.on_conflict_do_update(index_elements=["shift_id"], set_=replaced), rows
    )


RETRIES = 20  # batches in a row that may find the database busy (another writer)
RETRY_PAUSE = 0.2  # seconds


async def catch_up_tallies(ctx: Context) -> int:
    """Count every due tally, a batch per transaction; how many. In a worker process on
    SQLite a batch's write can find that the bot wrote meanwhile (its read snapshot is then
    stale): the batch is rolled back and tried again."""
    total = failures = 0
    while True:
        try:
            done = await refresh_due(ctx, CATCH_UP_BATCH)
        except OperationalError:
            failures += 1
            if failures > RETRIES:
                raise
            await asyncio.sleep(RETRY_PAUSE)
            continue
        failures = 0
        total += done
        if done < CATCH_UP_BATCH:
            return total


_catching_up: asyncio.Task[int] | None = None
_checked_basis: set[tuple[str, str]] = set()  # (database, settings) listed by this process


async def tally_step(ctx: Context) -> int:
    """The ticker's step: up to a batch of due tallies in place; when the batch was full, the
    rest in a worker process (one catch-up at a time, in the background). Once per process,
    tallies counted under other settings (the time zone, trained walkers needed) are listed
    as due."""
    global _catching_up
    if _catching_up is not None and not _catching_up.done():
        return 0
    wanted = basis(ctx.zone, ctx.settings.walks.trained_walkers_per_shift)
    if (str(ctx.store.engine.url), wanted) not in _checked_basis:
        _checked_basis.add((str(ctx.store.engine.url), wanted))
        if listed := await list_other_basis(ctx, wanted):
            return listed  # counted by the next ticks
    done = await refresh_due(ctx, TICK_BATCH)
    if done == TICK_BATCH and shares_a_file(ctx.store):  # a full batch: maybe a backlog
        _catching_up = asyncio.get_running_loop().create_task(off_loop(ctx, catch_up_tallies))
        _catching_up.add_done_callback(_log_catch_up)
    return done


async def list_other_basis(ctx: Context, wanted: str) -> int:
    """List as due the shifts whose tally was counted under other settings; how many."""
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        listed = await connection.execute(
            text(
                "INSERT INTO walk_tally_due (shift_id, due_at, gen) "
                "SELECT shift_id, end_at, 1 FROM walk_tally WHERE basis < :basis OR basis > :basis "
                "ON CONFLICT (shift_id) DO UPDATE SET gen = walk_tally_due.gen + 1"
            ),
            {"basis": wanted},
        )
    return int(listed.rowcount or 0)


def _log_catch_up(task: asyncio.Task[int]) -> None:
    if task.cancelled():
        return
    if task.exception() is not None:
        log.error("counting the walk tallies failed: %s", task.exception())
    else:
        log.info("counted %d walk tallies", task.result())
