"""Benchmark: one scheduler tick over 100,000 shifts with sign-ups, and the process's memory.

    python bench/scheduler_tick.py                  # 100,000 shifts on a temporary SQLite file
    python bench/scheduler_tick.py --shifts 20000 --database-url postgresql+psycopg://...

A child process loads the store (organisations, areas, people, shifts spread over two years
around "now" with their sign-ups, check-ins and the outbox history a store of that age has);
this process then measures what `vandra run` does: start-up (open the store, check the schema,
build vandra with ``bot.bootstrap``, start APScheduler) and ticks. A tick is the ticker's
steps (pass on unconfirmed offers, retention, compute what is due, wake the dispatcher), run on
a clock that advances ``tick_seconds`` between ticks. The first tick after start catches up on
everything in the look-back windows; the steady ticks are what runs every 15 s.

The last line is ``RESULT shifts=... tick_ms=... peak_rss_mb=... startup_s=...`` (tick_ms is
the median steady tick; first_tick_ms and max_tick_ms are given too). Targets: tick <= 50 ms,
memory <= 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_SHIFTS = 100_000
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # a Friday evening, walks about to start
SPAN_DAYS = 730  # shifts from a year back to a year ahead
ORGANISATIONS = 20
AREAS = 10
VOLUNTEERS_PER_ORG = 150
CHUNK = 5_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time one vandra scheduler tick over many shifts; report peak memory.",
        epilog="The last line is: RESULT shifts=N tick_ms=... peak_rss_mb=... startup_s=...",
    )
    parser.add_argument(
        "--shifts",
        type=int,
        default=DEFAULT_SHIFTS,
        help=f"shifts to load (default {DEFAULT_SHIFTS:,})",
    )
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL of an EMPTY database (default: a temporary SQLite file)",
    )
    parser.add_argument("--ticks", type=int, default=40, help="steady ticks to time (default 40)")
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="leave out the outbox rows past shifts would have left",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--load-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- loading (in a child process, so its memory does not count) ------------------------------


def _people() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    person_id = 0
    for org in range(1, ORGANISATIONS + 1):
        for n in range(VOLUNTEERS_PER_ORG + 2):
            person_id += 1
            role = "lead" if n < 2 else "volunteer"
            rows.append(_person(person_id, org, role, trained=n % 4 == 0))
    for _ in range(3):
        person_id += 1
        rows.append(_person(person_id, None, "coordinator", trained=True))
    return rows


def _person(person_id: int, org: int | None, role: str, trained: bool) -> dict[str, Any]:
    return {
        "id": person_id,
        "name": f"Person {person_id}",
        "phone": f"+46701{person_id:06d}",
        "telegram_id": 10_000_000 + person_id,
        "preferred_channel": "telegram",
        "language": "sv",
        "organisation_id": org,
        "role": role,
        "trained": trained,
        "consent_at": NOW - timedelta(days=800),
        "approved_at": NOW - timedelta(days=800),
        "age_confirmed_at": NOW - timedelta(days=800),
        "sms_opted_out": False,
        "sms_unreachable": False,
        "telegram_blocked": False,
        "no_show_count": 0,
        "created_at": NOW - timedelta(days=800),
    }


def _shift(shift_id: int, total: int, rng: random.Random) -> dict[str, Any]:
    """Shifts evenly over SPAN_DAYS around NOW, each starting 17-21 UTC, four hours long."""
    offset = (shift_id - 1) * SPAN_DAYS * 86400 / total
    day = NOW - timedelta(days=SPAN_DAYS // 2) + timedelta(seconds=offset)
    start = day.replace(hour=rng.choice([17, 18, 19, 20, 21]), minute=0, second=0, microsecond=0)
    return {
        "id": shift_id,
        "organisation_id": rng.randint(1, ORGANISATIONS),
        "area_id": rng.randint(1, AREAS),
        "start_at": start,
        "end_at": start + timedelta(hours=4),
        "min_walkers": 3,
        "max_walkers": 8,
        "status": "cancelled" if rng.random() < 0.03 else "planned",
        "risk_night": False,
        "created_at": start - timedelta(days=30),
    }


def _signups(shift: dict[str, Any], first_id: int, rng: random.Random) -> list[dict[str, Any]]:
    org = shift["organisation_id"]
    base = (org - 1) * (VOLUNTEERS_PER_ORG + 2) + 1
    walkers = rng.sample(range(base, base + VOLUNTEERS_PER_ORG + 2), rng.randint(0, 8))
    past = shift["start_at"] < NOW
    rows = []
    for n, person_id in enumerate(walkers):
        rows.append(
            {
                "id": first_id + n,
                "shift_id": shift["id"],
                "person_id": person_id,
                "status": "confirmed",
                "queued_at": shift["start_at"] - timedelta(days=5),
                "confirmed_at": shift["start_at"] - timedelta(days=5),
                "checked_in_at": shift["start_at"] if past else None,
                "checked_out_at": shift["end_at"] if past else None,
                "no_show": False,
            }
        )
    return rows


def _history(shift: dict[str, Any], signups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The outbox rows a past shift leaves: reminders and prompts, sent."""
    if shift["start_at"] >= NOW - timedelta(days=2) or shift["status"] != "planned":
        return []
    rows = []
    for signup in signups:
        for key, kind, at in (
            (f"reminder:24h:signup:{signup['id']}", "reminder", shift["start_at"] - timedelta(1)),
            (
                f"reminder:2h:signup:{signup['id']}",
                "reminder",
                shift["start_at"] - timedelta(hours=2),
            ),
            (f"checkin:signup:{signup['id']}", "check_in_prompt", shift["start_at"]),
            (
                f"report:signup:{signup['id']}",
                "report_prompt",
                shift["end_at"] + timedelta(minutes=15),
            ),
        ):
            rows.append(
                {
                    "dedupe_key": key,
                    "kind": kind,
                    "person_id": signup["person_id"],
                    "channel": "telegram",
                    "payload": {"shift_id": shift["id"]},
                    "status": "sent",
                    "urgent": False,
                    "due_at": at,
                    "attempts": 1,
                    "sent_at": at,
                    "delivery_status": "sent",
                    "created_at": at,
                }
            )
    return rows


async def load(url: str, shifts: int, history: bool, seed: int) -> dict[str, int]:
    """Fill an empty database; how many rows of each kind."""
    from models.db import Store, upgrade

    store = Store.open(url)
    try:
        await upgrade(store.engine)
        await _load_places_and_people(store)
        counts = await _load_shifts(store, shifts, history, random.Random(seed))
        await _analyze(store)
    finally:
        await store.close()
    return counts


async def _load_places_and_people(store: Any) -> None:
    from sqlalchemy import insert

    from models.tables import Area, Organisation, Person

    organisations = [
        {"id": n, "name": f"Org {n}", "name_key": f"org {n}", "created_at": NOW}
        for n in range(1, ORGANISATIONS + 1)
    ]
    areas = [
        {
            "id": n,
            "name": f"Area {n}",
            "name_key": f"area {n}",
            "meeting_point": f"Meeting point {n}",
            "created_at": NOW,
        }
        for n in range(1, AREAS + 1)
    ]
    async with store.engine.begin() as connection:
        await connection.execute(insert(Organisation), organisations)
        await connection.execute(insert(Area), areas)
        await connection.execute(insert(Person), _people())


async def _load_shifts(
    store: Any, shifts: int, history: bool, rng: random.Random
) -> dict[str, int]:
    """The shifts in chunks, each with its sign-ups (and the outbox rows they left)."""
    from sqlalchemy import insert

    from models.tables import OutboxMessage, Shift, Signup

    counts = {"loaded_shifts": 0, "signups": 0, "outbox_rows": 0}
    signup_id = 1
    for first in range(1, shifts + 1, CHUNK):
        batch = [_shift(n, shifts, rng) for n in range(first, min(first + CHUNK, shifts + 1))]
        signup_rows, outbox_rows = [], []
        for shift in batch:
            rows = _signups(shift, signup_id, rng)
            signup_id += len(rows)
            signup_rows += rows
            if history:
                outbox_rows += _history(shift, rows)
        async with store.engine.begin() as connection:
            await connection.execute(insert(Shift), batch)
            if signup_rows:
                await connection.execute(insert(Signup), signup_rows)
            if outbox_rows:
                await connection.execute(insert(OutboxMessage), outbox_rows)
        counts["loaded_shifts"] += len(batch)
        counts["signups"] += len(signup_rows)
        counts["outbox_rows"] += len(outbox_rows)
    return counts


async def _analyze(store: Any) -> None:
    """Planner statistics for the loaded tables, as a database in service has them."""
    async with store.engine.connect() as connection:
        if store.engine.dialect.name != "sqlite":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql("ANALYZE")


# --- measuring (in this process) --------------------------------------------------------------


async def measure(url: str, ticks: int) -> dict[str, float]:
    from bot.bootstrap import bootstrap
    from models.db import schema_state
    from scheduling.common.clock import ManualClock
    from scheduling.common.config import settings_from_mapping

    started = time.perf_counter()
    settings = settings_from_mapping({"database": {"url": url}})
    clock = ManualClock(NOW)
    app = bootstrap(settings, clock=clock)  # as `vandra run` builds it, no channel configured
    state = await schema_state(app.ctx.store.engine)
    assert state.up_to_date, "the database is not at the code's schema"
    ticker = app.ticker
    ticker.start()  # the timed ticks below are run by hand, on the bench's clock
    startup_s = time.perf_counter() - started
    ticker.stop()
    await asyncio.sleep(0.1)  # let APScheduler's immediate first run see the stop
    try:
        first = await _timed_tick(ticker)
        steady = []
        for _ in range(ticks):
            clock.advance(timedelta(seconds=settings.scheduling.tick_seconds))
            steady.append(await _timed_tick(ticker))
    finally:
        await app.close()
    return {
        "startup_s": startup_s,
        "first_tick_ms": first,
        "tick_ms": statistics.median(steady),
        "max_tick_ms": max(steady),
    }


async def _timed_tick(ticker: Any) -> float:
    started = time.perf_counter()
    await ticker.tick()
    elapsed = (time.perf_counter() - started) * 1000
    if not ticker.last_tick_ok:
        raise RuntimeError("a tick step failed (see the log)")
    return elapsed


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)  # the cancelled first run
    logging.getLogger("vandra.ticker").setLevel(logging.ERROR)  # "took N ms" on catch-up
    if args.load_only:
        counts = asyncio.run(load(args.database_url, args.shifts, not args.no_history, args.seed))
        print(" ".join(f"{k}={v}" for k, v in counts.items()))
        return
    with tempfile.TemporaryDirectory(prefix="vandra-bench-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        print(f"loading {args.shifts:,} shifts into {url.split('@')[-1]} ...", flush=True)
        started = time.perf_counter()
        loaded = load_in_a_process(args, url)
        print(f"loaded {loaded} in {time.perf_counter() - started:.1f} s", flush=True)
        figures = asyncio.run(measure(url, args.ticks))
    print(
        f"start-up {figures['startup_s']:.3f} s; first tick (catch-up) "
        f"{figures['first_tick_ms']:.1f} ms; {args.ticks} steady ticks: median "
        f"{figures['tick_ms']:.1f} ms, max {figures['max_tick_ms']:.1f} ms"
    )
    backend = url.split(":", 1)[0].split("+", 1)[0]
    print(
        f"RESULT shifts={args.shifts} tick_ms={figures['tick_ms']:.1f} "
        f"peak_rss_mb={peak_rss_mb():.1f} startup_s={figures['startup_s']:.3f} "
        f"first_tick_ms={figures['first_tick_ms']:.1f} max_tick_ms={figures['max_tick_ms']:.1f} "
        f"database={backend} {loaded}"
    )


def load_in_a_process(args: argparse.Namespace, url: str) -> str:
    """Load in a process of its own (its memory is not this one's peak); what it loaded."""
    loader = [sys.executable, __file__, "--load-only", "--database-url", url]
    loader += ["--shifts", str(args.shifts), "--seed", str(args.seed)]
    if args.no_history:
        loader.append("--no-history")
    return subprocess.run(loader, check=True, capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main()
