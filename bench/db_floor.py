"""The floor under ``bench/updates.py``'s PostgreSQL ratio: what PostgreSQL round trips alone cost.

A bot that does almost nothing, python-telegram-bot's echo bot, is given what any database bot
adds to an update and nothing more: before replying, it makes ``--round-trips`` trivial
statements (``SELECT $1::int``) on a PostgreSQL connection of a pool, and handles updates
concurrently as vandra does (``concurrent_updates``). In the same harness as
``bench/updates.py`` (its fake Bot API, its load driver, the same interpreter and cores, the
plain echo bot run before and after each measured run), ``ratio_<layer>`` is such a bot's rate
over the echo bot's, for each way to the server (``--layers``):

- ``none``: no statement (what handling updates concurrently costs by itself);
- ``raw``: psycopg's ``AsyncConnection`` itself, the statement prepared by the server;
- ``sqlalchemy``: SQLAlchemy Core (``text()``) on an ``AsyncEngine`` over psycopg in
  autocommit, so the same round trips and no more, as vandra's store reaches the server.

The layers run in turn ``--pairs`` times (each ratio is the median), so the machine's drift
touches each alike. What it tells: how far a given number of round trips per update, through
each layer, leaves a bot from the echo bot's pace on this machine, before any of vandra's own
work; bench/README.md has the figures and what they mean for issue 19.

The last line of stdout is ``RESULT round_trips=K volunteers=N updates=N ratio_<layer>=...
loop_ms_<layer>=... echo_loop_ms=... db=postgres`` (``loop_ms``: the bot's event loop thread's
CPU per update), or ``RESULT ... db=none skipped=...`` when no PostgreSQL server answers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import psycopg  # noqa: E402
import updates  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import ContextTypes  # noqa: E402

LAYERS = ("none", "raw", "sqlalchemy")
FLOOR_FIRST_USER_ID = 7_300_000_001
RAW_STATEMENT = "SELECT %s::int"  # each round trip: one trivial statement with a parameter
SQLALCHEMY_STATEMENT = "SELECT CAST(:n AS integer)"
POOL_SIZE = 40  # as many connections as vandra's store keeps at most (models/engine.py)
CONCURRENT = 64

RoundTrips = Callable[[int], Awaitable[None]]


def progress(text: str) -> None:
    print(f"[db_floor] {text}", file=sys.stderr, flush=True)


@asynccontextmanager
async def raw_round_trips(url: str) -> AsyncIterator[RoundTrips]:
    """``k`` statements on a psycopg connection of a small pool of our own."""
    pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    for _ in range(POOL_SIZE):
        connection = await psycopg.AsyncConnection.connect(updates.libpq(url), autocommit=True)
        pool.put_nowait(connection)

    async def run(k: int) -> None:
        connection = await pool.get()
        try:
            for n in range(k):
                cursor = await connection.execute(RAW_STATEMENT, (n,), prepare=True)
                await cursor.fetchall()
        finally:
            pool.put_nowait(connection)

    try:
        yield run
    finally:
        while not pool.empty():
            await pool.get_nowait().close()


@asynccontextmanager
async def sqlalchemy_round_trips(url: str) -> AsyncIterator[RoundTrips]:
    """``k`` Core statements on a connection of an ``AsyncEngine``, in autocommit."""
    engine = create_async_engine(
        updates.with_driver(url, "psycopg"),
        pool_size=POOL_SIZE,
        isolation_level="AUTOCOMMIT",
    )
    statement = text(SQLALCHEMY_STATEMENT)

    async def run(k: int) -> None:
        async with engine.connect() as connection:
            for n in range(k):
                (await connection.execute(statement, {"n": n})).all()

    try:
        yield run
    finally:
        await engine.dispose()


@asynccontextmanager
async def no_round_trips(url: str) -> AsyncIterator[RoundTrips]:
    async def run(k: int) -> None:
        return None

    yield run


OPENERS = {"none": no_round_trips, "raw": raw_round_trips, "sqlalchemy": sqlalchemy_round_trips}


async def run_floor(
    options: updates.Options, layer: str, round_trips: int, url: str
) -> updates.Measured:
    """The echo bot, concurrent, with ``round_trips`` statements before each reply."""
    async with OPENERS[layer](url) as trips:

        async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.effective_message
            if message is not None and message.text is not None:
                await trips(round_trips)
                await message.reply_text(message.text)

        return await updates.run_text_bot(
            options, 2, answer, FLOOR_FIRST_USER_ID, f"floor/{layer}", CONCURRENT
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "How much of the echo bot's pace a bot keeps when each update also makes K round "
            "trips to PostgreSQL, through psycopg itself or through SQLAlchemy."
        ),
        epilog="The last line is: RESULT round_trips=K ... ratio_<layer>=... db=postgres",
    )
    parser.add_argument("--round-trips", type=int, default=4, help="per update (default 4)")
    parser.add_argument("--volunteers", type=int, default=1000, help="users, 2 updates each")
    parser.add_argument("--concurrency", type=int, default=updates.DEFAULT_CONCURRENCY)
    parser.add_argument("--pairs", type=int, default=2, help="rounds of all layers (default 2)")
    parser.add_argument(
        "--layers", default=",".join(LAYERS), help=f"comma-separated, of {', '.join(LAYERS)}"
    )
    parser.add_argument("--postgres-url", default=updates.DEFAULT_POSTGRES_URL)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    args = parser.parse_args(argv)
    args.layers = [layer.strip() for layer in args.layers.split(",") if layer.strip()]
    unknown = sorted(set(args.layers) - set(LAYERS))
    if unknown or not args.layers:
        parser.error(f"--layers takes {', '.join(LAYERS)}; not {', '.join(unknown) or 'none'}")
    if args.round_trips < 0 or args.volunteers < 1 or args.pairs < 1:
        parser.error("--round-trips >= 0, --volunteers >= 1 and --pairs >= 1, please")
    return args


async def main_async(args: argparse.Namespace) -> dict[str, str]:
    options = updates.Options(args.volunteers, args.concurrency, args.timeout)
    ratios: dict[str, list[float]] = {layer: [] for layer in args.layers}
    loops: dict[str, list[float]] = {layer: [] for layer in args.layers}
    echo_loops: list[float] = []
    for pair in range(args.pairs):
        for layer in args.layers:
            before = await updates.run_echo(options, 2)
            floor = await run_floor(options, layer, args.round_trips, args.postgres_url)
            after = await updates.run_echo(options, 2)
            echo = updates.mean_of(before, after)
            ratios[layer].append(floor.per_s / echo.per_s if echo.per_s else 0.0)
            loops[layer].append(floor.loop_ms_per_update)
            echo_loops.append(echo.loop_ms_per_update)
            progress(
                f"round {pair + 1}/{args.pairs}, {layer}: ratio {ratios[layer][-1]:.2f}, "
                f"loop {floor.loop_ms_per_update:.2f} ms against the echo bot's "
                f"{echo.loop_ms_per_update:.2f} ms per update"
            )
    out = {
        "round_trips": str(args.round_trips),
        "volunteers": str(args.volunteers),
        "updates": str(2 * args.volunteers),
        "pairs": str(args.pairs),
    }
    for layer in args.layers:
        out[f"ratio_{layer}"] = f"{statistics.median(ratios[layer]):.2f}"
        out[f"loop_ms_{layer}"] = f"{statistics.median(loops[layer]):.2f}"
    out["echo_loop_ms"] = f"{statistics.median(echo_loops):.2f}"
    out["db"] = "postgres"
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = updates.postgres_problem(args.postgres_url)
    if problem is not None:
        progress(f"no PostgreSQL at {updates.libpq(args.postgres_url)}: {problem}")
        print(f"RESULT round_trips={args.round_trips} db=none skipped=no-postgres", flush=True)
        return 0
    out = asyncio.run(main_async(args))
    print("RESULT " + " ".join(f"{key}={value}" for key, value in out.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
