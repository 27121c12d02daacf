"""Statistics and exports run in a worker process (evaluation/off_loop.py): the figures and
files are those the same computation gives in place, and work that holds the interpreter lock
for a long time there does not hold up the bot's event loop (a worker thread would)."""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from functools import partial
from typing import Any

import pytest

from bot.i18n import t
from evaluation import exports
from evaluation import statistics as stats
from evaluation.exports.build import build_tables
from evaluation.off_loop import off_loop
from models.tables import Role
from scheduling.common.context import Context
from scheduling.people.access import Actor
from tests.coord_data import build

NOV = (date(2026, 11, 1), date(2026, 11, 30))
HOLD_S = 0.4  # CPU seconds one compiled call in the slow job holds the interpreter lock


async def pid_of(ctx: Context) -> int:
    return os.getpid()


async def test_the_work_runs_in_another_process(ctx: Context) -> None:
    """``off_loop`` hands the work to a process that is not the bot's."""
    assert await off_loop(ctx, pid_of) != os.getpid()


async def frozen(ctx: Context) -> tuple[int, int]:
    import gc

    return os.getpid(), gc.get_freeze_count()


async def test_what_a_worker_holds_after_its_first_job_is_frozen(ctx: Context) -> None:
    """After a worker's first job, what it holds (modules, the store) is out of the cyclic
    collector's sight (``gc.freeze``): full collections after jobs, 70-90 ms each on the big
    town, were the slowest statistics."""
    seen: set[int] = set()
    again = []
    for _ in range(6):
        pid, count = await off_loop(ctx, frozen)
        if pid in seen:
            again.append(count)
        seen.add(pid)
    assert again and all(count > 1_000 for count in again), again


async def test_off_process_figures_and_files_are_those_computed_in_place(ctx: Context) -> None:
    """The statistics of the hand-built month (everything, and one organisation), and every
    export's file, are the same whether made in the worker process or in this one."""
    data = await build(ctx)
    operator = Actor.operator()
    assert await stats.statistics(ctx, operator, *NOV) == await stats.statistics_for(ctx, *NOV)
    lead = Actor(person_id=99, role=Role.LEAD, organisation_id=data.org_b, label="lead")
    assert await stats.statistics(ctx, lead, *NOV) == await stats.statistics_for(
        ctx, *NOV, data.org_b
    )
    texts = partial(t, "sv")
    for kind in exports.KINDS:
        request = exports.ExportRequest(kind, *NOV)
        for fmt in ("csv", "xlsx"):
            off = await exports.export_file(ctx, operator, request, texts, fmt)
            tables = await build_tables(ctx, request, None, texts)
            in_place = exports.render(tables, texts, fmt)
            if fmt == "csv":
                assert off == in_place, kind
            else:  # the zip's time stamps may differ by a second: compare the cells
                assert _cells(off) == _cells(in_place), kind


def _cells(content: bytes) -> list[list[tuple[Any, ...]]]:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content))
    return [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]


def hold_the_lock(n: int) -> int:
    """Compiled work that never lets go of the interpreter lock while it runs."""
    return sum(range(n))


def calibrated() -> int:
    """A size for ``hold_the_lock`` that takes at least ``HOLD_S`` of CPU time here (CPU time:
    on a busy machine the wall time says little), so at least as long on the clock."""
    n = 1_000_000
    while True:
        started = time.thread_time()
        hold_the_lock(n)
        if time.thread_time() - started >= HOLD_S:
            return n
        n *= 2


async def slow_statistics(ctx: Context, n: int, rounds: int) -> stats.StatsReport:
    """The month's statistics after ``rounds`` long holds of the interpreter lock."""
    for _ in range(rounds):
        hold_the_lock(n)
    return await stats.statistics_for(ctx, *NOV)


async def loop_lag(work: Any) -> float:
    """The longest a 1 ms ticker on this loop overslept while ``work`` ran, in seconds."""
    worst, done = 0.0, asyncio.Event()

    async def tick() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst, last = max(worst, now - last - 0.001), now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    try:
        await work
    finally:
        done.set()
        await ticker
    return worst


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_job_holding_the_interpreter_lock_does_not_block_the_loop(ctx: Context) -> None:
    """A statistics job that holds the interpreter lock for ``HOLD_S`` at a time, twice:
    on a worker thread it blocks the loop about that long (so a thread is not enough); in the
    worker process the loop is never held up for more than a fraction of it. (Run it on the
    loop or on a thread and the last assertion fails.)"""
    await build(ctx)
    n = calibrated()
    await off_loop(ctx, pid_of)  # the worker is up: its start-up is not what is measured
    on_thread = await loop_lag(asyncio.to_thread(hold_the_lock, n))
    assert on_thread >= HOLD_S * 0.75, f"the job held the loop only {on_thread * 1000:.0f} ms"
    report = await stats.statistics_for(ctx, *NOV)
    off = off_loop(ctx, slow_statistics, n, 2)
    lag = await loop_lag(off)
    assert lag < HOLD_S / 2, f"the loop was blocked {lag * 1000:.0f} ms"
    assert await off_loop(ctx, slow_statistics, 1, 1) == report


async def die(ctx: Context) -> int:
    os._exit(1)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_worker_that_died_is_replaced_for_the_next_request(ctx: Context) -> None:
    """A worker process killed in the middle of a job (out of memory, say) fails that
    request; the next one gets a fresh worker."""
    with pytest.raises(BrokenProcessPool):
        await off_loop(ctx, die)
    assert await off_loop(ctx, pid_of) != os.getpid()
