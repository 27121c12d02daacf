"""Benchmark: a big town's five years of walks; statistics, exports and the scheduler's tick.

    python bench/stats.py                      # 1,000,000 sign-ups on a temporary SQLite file
    python bench/stats.py --db postgres        # a fresh schema on the test server, dropped after
    python bench/stats.py --signups 20000 --reports 2000 --areas 30 --organisations 5 --repeat 3

The store (``bench/town.py``): ``--organisations`` organisations, ``--areas`` areas, 250
people per organisation, shifts evenly over ``--years`` years before "now" with about ten
sign-ups each (``--signups`` in all) and ``--reports`` reports, plus ``--upcoming`` shifts
over the year ahead with a few sign-ups each. It is loaded with bulk inserts (COPY on
PostgreSQL) after the migrations have made the schema; then the statistics' per-walk tallies
are counted as after the upgrade that added them (``catch_up_tallies`` in a worker process,
``tallies_s``).

Then, in one process and on one event loop, as the dashboard asks for them: the statistics
of the last year ``--repeat`` times (p50 and p95), the statistics of the longest range the
configuration allows (``[evaluation] max_range_days``), every export for the year and for that
range (the tables and the file, CSV unless ``--export-format xlsx``); meanwhile a task
sleeping 1 ms at a time measures the longest time the event loop was blocked. Then
``--ticks`` scheduler ticks at "now" (after an untimed first tick that catches up).

The last line is ``RESULT signups=... reports=... p50_ms=... p95_ms=... loop_blocked_max_ms=...
db=...`` (p50/p95 of the year's statistics) with ``messages`` (the outbox rows of the history),
``load_s``, ``tallies_s``, ``max_range_ms``,
``tick_ms`` (median steady tick), ``max_tick_ms``, ``first_tick_ms`` and
``first_tick_blocked_ms`` (the first tick after start, which catches up, and the event loop's
longest block meanwhile),
``loop_blocked_stats_ms`` and ``loop_blocked_exports_ms`` (the two parts of
``loop_blocked_max_ms``), ``loop_idle_max_ms`` (the same watch over an idle loop for 5 s
first: the machine's own noise) and one ``export_<kind>_ms`` (a year) each.
Targets: p95_ms <= 300, loop_blocked_max_ms <= 50, tick_ms <= 50.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import town  # noqa: E402

from bot.runtime import server_collector  # noqa: E402

DEFAULT_POSTGRES_URL = os.environ.get(
    "VANDRA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EXPORT_KINDS = ("reports", "shifts", "signups", "stats", "payments")
IDLE_S = 5.0  # how long the idle loop is watched first


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time vandra's statistics, exports and scheduler tick over a big town's "
        "years of walks; measure how long the event loop was blocked.",
        epilog="The last line is: RESULT signups=N reports=N p50_ms=... p95_ms=... "
        "loop_blocked_max_ms=... db=sqlite|postgres ...",
    )
    size = town.Size()
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server for --db postgres; a fresh schema is made and dropped (%(default)s)",
    )
    parser.add_argument("--signups", type=int, default=size.signups, help="(default 1,000,000)")
    parser.add_argument("--reports", type=int, default=size.reports, help="(default 100,000)")
    parser.add_argument("--areas", type=int, default=size.areas, help="(default 300)")
    parser.add_argument("--organisations", type=int, default=size.organisations)
    parser.add_argument("--years", type=int, default=size.years, help="(default 5)")
    parser.add_argument("--upcoming", type=int, default=100_000, help="shifts ahead (100,000)")
    parser.add_argument("--repeat", type=int, default=20, help="statistics runs (default 20)")
    parser.add_argument("--ticks", type=int, default=20, help="scheduler ticks (default 20)")
    parser.add_argument("--no-exports", action="store_true", help="skip the exports")
    parser.add_argument(
        "--export-format",
        choices=("csv", "xlsx"),
        default="csv",
        help="the file the exports are written as (default csv: an XLSX of three years of "
        "sign-ups takes minutes and gigabytes with openpyxl)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="PostgreSQL: leave the store unvacuumed after the catch-up (as a server without "
        "autovacuum would)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the store built (its database URL is printed) to time it again with --store",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="time a store an earlier --keep run built (no building; its ticks have moved on, "
        "so the first tick is no catch-up; upcoming= echoes --upcoming)",
    )
    return parser.parse_args(argv)


@contextlib.contextmanager
def database(kind: str, postgres_url: str, keep: bool = False) -> Iterator[str]:
    """A fresh database: a SQLite file in a temporary folder, or a PostgreSQL schema;
    dropped after unless ``keep``."""
    if kind == "sqlite":
        if keep:
            yield f"sqlite:///{tempfile.mkdtemp(prefix='vandra-bench-')}/bench.db"
            return
        with tempfile.TemporaryDirectory(prefix="vandra-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    import psycopg

    libpq = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in postgres_url else "?"
        yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        if not keep:
            with psycopg.connect(libpq, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


class LoopWatch:
    """A task sleeping 1 ms at a time: the longest it overslept is how long the loop was
    blocked (less the 1 ms it asked for)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - 0.001)
            last = now

    def __enter__(self) -> LoopWatch:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()

    @property
    def worst_ms(self) -> float:
        return self.worst * 1000


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await work()
    return (time.perf_counter() - started) * 1000


async def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    from bot.bootstrap import bootstrap
    from evaluation import statistics as stats
    from scheduling.common.clock import ManualClock
    from scheduling.common.config import settings_from_mapping
    from scheduling.people.access import Actor

    settings = settings_from_mapping({"database": {"url": url}})
    clock = ManualClock(town.NOW)
    app = bootstrap(settings, clock=clock)
    ctx, actor = app.ctx, Actor.operator()
    last = town.NOW.astimezone(settings.zone).date()
    year = (last - timedelta(days=364), last)
    longest = (last - timedelta(days=settings.evaluation.max_range_days - 1), last)
    figures: dict[str, float] = {}
    try:
        await stats.statistics(ctx, actor, *year)  # warm: caches, the planner
        with server_collector():  # as `vandra run` serves
            with LoopWatch() as idle:  # the machine's own noise: a loop with nothing to do
                await asyncio.sleep(IDLE_S)
            with LoopWatch() as watch:
                runs = [await timed(partial(stats.statistics, ctx, actor, *year))
                        for _ in range(args.repeat)]  # fmt: skip
                figures["max_range_ms"] = await timed(
                    partial(stats.statistics, ctx, actor, *longest)
                )
            with LoopWatch() as exporting:
                if not args.no_exports:
                    await _exports(ctx, actor, {"": year, "_max": longest}, args, figures)
            figures["loop_blocked_stats_ms"] = watch.worst_ms
            figures["loop_blocked_exports_ms"] = exporting.worst_ms
            figures["loop_blocked_max_ms"] = max(watch.worst_ms, exporting.worst_ms)
            figures["loop_idle_max_ms"] = idle.worst_ms
            ticks = await _ticks(app, clock, args.ticks, figures)
    finally:
        await app.close()
    runs.sort()
    figures["p50_ms"] = statistics.median(runs)
    figures["p95_ms"] = runs[min(len(runs) - 1, round(0.95 * (len(runs) - 1)))]
    figures["tick_ms"] = statistics.median(ticks) if ticks else 0.0
    figures["max_tick_ms"] = max(ticks) if ticks else 0.0
    return figures


async def count_tallies(url: str) -> int:
    """The walk tallies of the loaded years, counted as after the upgrade that added them: by
    ``catch_up_tallies`` (``evaluation/tally_refresh.py``) in an evaluation worker process."""
    from bot.bootstrap import bootstrap
    from evaluation.off_loop import off_loop, stop_workers
    from evaluation.tally_refresh import catch_up_tallies
    from scheduling.common.clock import ManualClock
    from scheduling.common.config import settings_from_mapping

    app = bootstrap(settings_from_mapping({"database": {"url": url}}), clock=ManualClock(town.NOW))
    try:
        return await off_loop(app.ctx, catch_up_tallies)
    finally:
        stop_workers()
        await app.close()


async def _exports(
    ctx: Any, actor: Any, ranges: dict[str, tuple[date, date]], args: Any, figures: Any
) -> None:
    for kind in EXPORT_KINDS:
        for name, days in ranges.items():
            figures[f"export_{kind}{name}_ms"] = await timed(
                partial(export, ctx, actor, kind, *days, args.export_format)
            )


async def export(ctx: Any, actor: Any, kind: str, first: date, last: date, fmt: str) -> None:
    """An export as the dashboard's download makes it: the tables, then the file."""
    from bot.i18n import t
    from evaluation import exports

    texts = partial(t, "sv")
    request = exports.ExportRequest(cast(exports.Kind, kind), first, last)
    await exports.export_file(ctx, actor, request, texts, fmt)


async def _ticks(app: Any, clock: Any, count: int, figures: dict[str, float]) -> list[float]:
    """Steady scheduler ticks at "now"; the first, catching up, is timed apart
    (``first_tick_ms``, and the longest the loop was blocked meanwhile,
    ``first_tick_blocked_ms``)."""
    ticker = app.ticker
    with LoopWatch() as watch:
        figures["first_tick_ms"] = await timed(ticker.tick)
        await asyncio.sleep(0.002)  # the watch's last turn
    figures["first_tick_blocked_ms"] = watch.worst_ms
    found = []
    for _ in range(count):
        clock.advance(timedelta(seconds=app.ctx.settings.scheduling.tick_seconds))
        found.append(await timed(ticker.tick))
        if not ticker.last_tick_ok:
            raise RuntimeError("a tick step failed (see the log)")
    return found


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    size = town.Size(
        signups=args.signups,
        reports=args.reports,
        areas=args.areas,
        organisations=args.organisations,
        years=args.years,
        upcoming=args.upcoming,
    )
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("vandra.ticker").setLevel(logging.ERROR)  # "took N ms" on catch-up
    if args.store:
        url, load_s, tallies_s = args.store, 0.0, 0.0
        args.db = "sqlite" if url.startswith("sqlite") else "postgres"  # the store's, not --db
        counts = asyncio.run(town.counts(url))
        figures = asyncio.run(measure(url, args))
    else:
        with database(args.db, args.postgres_url, args.keep) as url:
            started = time.perf_counter()
            counts = asyncio.run(town.build(url, size, args.seed))
            load_s = time.perf_counter() - started
            print(f"[stats] loaded {counts} in {load_s:.1f} s", file=sys.stderr, flush=True)
            started = time.perf_counter()
            tallied = asyncio.run(count_tallies(url))
            tallies_s = time.perf_counter() - started
            print(f"[stats] counted {tallied} walk tallies in {tallies_s:.1f} s", file=sys.stderr)
            if not args.no_vacuum:
                town.vacuum(url)
            figures = asyncio.run(measure(url, args))
            if args.keep:
                print(f"[stats] kept the store: --store '{url}'", file=sys.stderr)
    extra = " ".join(f"{k}={v:.1f}" for k, v in figures.items() if k.startswith("export_"))
    print(
        f"RESULT signups={counts['signups']} reports={counts['reports']} "
        f"p50_ms={figures['p50_ms']:.1f} p95_ms={figures['p95_ms']:.1f} "
        f"loop_blocked_max_ms={figures['loop_blocked_max_ms']:.1f} db={args.db} "
        f"shifts={counts['shifts']} upcoming={args.upcoming} messages={counts['messages']} "
        f"load_s={load_s:.1f} "
        f"tallies_s={tallies_s:.1f} "
        f"max_range_ms={figures['max_range_ms']:.1f} tick_ms={figures['tick_ms']:.1f} "
        f"max_tick_ms={figures['max_tick_ms']:.1f} "
        f"first_tick_ms={figures['first_tick_ms']:.1f} "
        f"first_tick_blocked_ms={figures['first_tick_blocked_ms']:.1f} "
        f"loop_blocked_stats_ms={figures['loop_blocked_stats_ms']:.1f} "
        f"loop_blocked_exports_ms={figures['loop_blocked_exports_ms']:.1f} "
        f"loop_idle_max_ms={figures['loop_idle_max_ms']:.1f} {extra}".rstrip()
    )


if __name__ == "__main__":
    main()
