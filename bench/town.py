"""A big town's years of walks, loaded fast: the store behind ``bench/stats.py``.

Organisations, areas and people, then shifts evenly over ``years`` before ``NOW`` (about ten
sign-ups each: most confirmed, some cancelled, the rest on the waitlist; on past shifts most
confirmed walkers checked in and out), submitted reports, and ``upcoming`` shifts over the
year after ``NOW`` with a few sign-ups each. The walks long over also carry what five years of
ticks left behind: their walkers' reminders, intros, check-in and report prompts, sent
(``outbox``, about 4.3 million rows at the default size), and their reminders' due marks.
Rows go in with the drivers' bulk paths (one ``executemany`` per table and chunk on SQLite,
``COPY`` on PostgreSQL), after the schema is brought up to date by the migrations.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # a Friday evening
CHUNK = 50_000
PEOPLE_PER_ORG = 250
MAX_WALKERS = 12
HELP = ("mediation", "first_aid", "helped_home", "called_parent")
SERVICES = ("112", "police", "ambulance", "security", "outreach")
PLACE_KINDS = ("broken_light", "dark_route", "bushes", "vandalism", "glass", "other")
BUCKETS = ("0", "1-10", "11-30", "31-50", "50+")
MOODS = ("calm", "mixed", "unruly")

PERSON = "id name phone telegram_id preferred_channel language organisation_id role trained consent_at age_confirmed_at approved_at sms_opted_out sms_unreachable telegram_blocked no_show_count created_at"  # noqa: E501
SHIFT = "id organisation_id area_id start_at end_at min_walkers max_walkers status risk_night created_at cancelled_at"  # noqa: E501
SIGNUP = "id shift_id person_id status queued_at confirmed_at cancelled_at checked_in_at checked_out_at no_show"  # noqa: E501
OUTBOX = "dedupe_key kind person_id channel payload status urgent priority due_at expires_at attempts sent_at created_at"  # noqa: E501
DUE_MARK = "key created_at"
# Shifts that ended this long before NOW carry the messages and due marks their ticks left
# (the ticks at NOW never look that far back, so the first tick's catch-up is unchanged).
HISTORY_BEFORE = timedelta(days=2)
REMINDERS = (("24h", timedelta(hours=24)), ("2h", timedelta(hours=2)))  # the defaults
REPORT = "id shift_id person_id status nothing_happened walkers_present areas youth_met mood help_given services_contacted place_issues felt_safe masked created_at submitted_at"  # noqa: E501


@dataclass(frozen=True)
class Size:
    signups: int = 1_000_000
    reports: int = 100_000
    areas: int = 300
    organisations: int = 40
    years: int = 5
    upcoming: int = 0  # shifts after NOW (the scheduler's share)

    @property
    def shifts(self) -> int:
        """Past shifts: about ten sign-ups each, a few more than needed for ``signups``."""
        return max(self.signups // 10 + self.signups // 400, 1)


class Writer:
    """Bulk rows into one database: ``put(table, columns, rows)`` then ``finish()``."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            import sqlite3

            self.connection: Any = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
            self.connection.execute("PRAGMA synchronous=OFF")
            self.connection.execute("BEGIN")
        else:
            import psycopg

            libpq = url.replace("postgresql+psycopg://", "postgresql://")
            self.connection = psycopg.connect(libpq)

    def put(self, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = columns.split()
        if self.sqlite:
            marks = ", ".join("?" for _ in names)
            self.connection.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
                [tuple(_sqlite_value(v) for v in row) for row in rows],
            )
            return
        statement = f"COPY {table} ({', '.join(names)}) FROM STDIN"
        with self.connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def finish(self, tables: list[str]) -> None:
        if self.sqlite:
            self.connection.execute("COMMIT")
            self.connection.execute("ANALYZE")
            self.connection.close()
            return
        for table in tables:  # the ids were given: move each sequence past them
            self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        self.connection.commit()
        self.connection.autocommit = True
        self.connection.execute("ANALYZE")
        self.connection.close()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _json(value: Any) -> str:
    return json.dumps(value)


async def build(url: str, size: Size, seed: int = 7) -> dict[str, int]:
    """Create the schema and fill it; how many rows of each kind went in."""
    from models.db import Store, upgrade

    store = Store.open(url)
    try:
        await upgrade(store.engine)
    finally:
        await store.close()
    rng = random.Random(seed)
    writer = Writer(url)
    counts = {"signups": 0, "reports": 0, "shifts": 0}
    writer.put("organisation", "id name name_key created_at", _organisations(size))
    writer.put("area", "id name name_key meeting_point created_at", _areas(size))
    writer.put("person", PERSON, _people(size))
    counts["messages"] = 0
    for shifts, signups, reports in _chunks(size, rng):
        writer.put("shift", SHIFT, shifts)
        writer.put("signup", SIGNUP, signups)
        writer.put("report", REPORT, reports)
        messages, marks = _history(shifts, signups)
        writer.put("outbox", OUTBOX, messages)
        writer.put("due_mark", DUE_MARK, marks)
        counts["shifts"] += len(shifts)
        counts["signups"] += len(signups)
        counts["reports"] += len(reports)
        counts["messages"] += len(messages)
    writer.finish(["organisation", "area", "person", "shift", "signup", "report"])
    return counts


async def counts(url: str) -> dict[str, int]:
    """How many rows of each kind a store built earlier holds (for ``bench/stats.py --store``)."""
    from sqlalchemy import text

    from models.db import Store

    store = Store.open(url)
    try:
        async with store.engine.connect() as connection:
            found = {}
            tables = (("signups", "signup"), ("reports", "report"), ("shifts", "shift"))
            for kind, table in (*tables, ("messages", "outbox")):
                result = await connection.execute(text(f"SELECT COUNT(*) FROM {table}"))
                found[kind] = int(result.scalar_one())
            return found
    finally:
        await store.close()


def vacuum(url: str) -> None:
    """PostgreSQL: ``VACUUM ANALYZE`` the store, as autovacuum would soon after the upgrade's
    catch-up deleted a row of ``walk_tally_due`` per walk (a production server runs
    autovacuum; this machine's test server has it off). SQLite: nothing (no dead rows to
    skip in its indexes; its table statistics were taken after loading)."""
    if url.startswith("sqlite"):
        return
    import psycopg

    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
        for (table,) in tables:  # the store's own, not every schema of the database
            connection.execute(f'VACUUM ANALYZE "{table}"')


def _organisations(size: Size) -> list[tuple[Any, ...]]:
    start = NOW - timedelta(days=365 * size.years + 30)
    return [(n, f"Org {n}", f"org {n}", start) for n in range(1, size.organisations + 1)]


def _areas(size: Size) -> list[tuple[Any, ...]]:
    start = NOW - timedelta(days=365 * size.years + 30)
    return [
        (n, f"Area {n}", f"area {n}", f"Meeting point {n}", start) for n in range(1, size.areas + 1)
    ]


def _people(size: Size) -> list[tuple[Any, ...]]:
    start = NOW - timedelta(days=365 * size.years + 30)
    rows = []
    for person_id in range(1, size.organisations * PEOPLE_PER_ORG + 2):
        org: int | None = (person_id - 1) // PEOPLE_PER_ORG + 1
        role = "lead" if person_id % PEOPLE_PER_ORG in (1, 2) else "volunteer"
        if person_id > size.organisations * PEOPLE_PER_ORG:
            org, role = None, "coordinator"
        rows.append(
            (person_id, f"Person {person_id}", f"+4670{person_id:07d}", 10**7 + person_id,
             "telegram", "sv", org, role, person_id % 4 == 0, start, start, start,
             False, False, False, 0, start)
        )  # fmt: skip
    return rows


@dataclass
class _Ids:
    shift: int = 0
    signup: int = 0
    report: int = 0


Rows = list[tuple[Any, ...]]


def _chunks(size: Size, rng: random.Random) -> Iterator[tuple[Rows, Rows, Rows]]:
    ids = _Ids()
    past, total = size.shifts, size.shifts + size.upcoming
    span = timedelta(days=365 * size.years)
    reports_per_walk = size.reports / max(past * 0.97, 1)
    while ids.shift < total:
        shifts: Rows = []
        signups: Rows = []
        reports: Rows = []
        for _ in range(min(CHUNK // 10, total - ids.shift)):
            ids.shift += 1
            if ids.shift <= past:
                start = NOW - span + span * (ids.shift - 1) / past
                wanted = rng.randint(6, 14)
            else:
                start = NOW + timedelta(days=365) * (ids.shift - past) / max(size.upcoming, 1)
                wanted = rng.randint(0, 4)
            shift = _shift(ids.shift, start, size, rng)
            shifts.append(shift)
            walkers = _signups(shift, wanted, ids, size, rng, signups)
            if start < NOW and shift[7] == "planned":
                _reports(shift, walkers, reports_per_walk, ids, rng, reports)
        yield shifts, signups, reports


def _shift(shift_id: int, day: datetime, size: Size, rng: random.Random) -> tuple[Any, ...]:
    start = day.replace(hour=rng.choice((17, 18, 19, 20)), minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=rng.choice((3, 4)))
    cancelled = rng.random() < 0.03
    return (
        shift_id, rng.randint(1, size.organisations), rng.randint(1, size.areas), start, end,
        3, MAX_WALKERS, "cancelled" if cancelled else "planned", rng.random() < 0.1,
        start - timedelta(days=30), start - timedelta(days=2) if cancelled else None,
    )  # fmt: skip


def _signups(
    shift: tuple[Any, ...], wanted: int, ids: _Ids, size: Size, rng: random.Random, out: Rows
) -> list[int]:
    """Sign-ups from the shift's organisation; the confirmed walkers who checked in."""
    base = (shift[1] - 1) * PEOPLE_PER_ORG + 1
    start, end = shift[3], shift[4]
    held = start < NOW and shift[7] == "planned"
    walkers, confirmed = [], 0
    for person in rng.sample(range(base, base + PEOPLE_PER_ORG), wanted):
        ids.signup += 1
        queued = start - timedelta(days=rng.randint(1, 20), minutes=ids.signup % 997)
        if rng.random() < 0.1:
            out.append((ids.signup, shift[0], person, "cancelled", queued, queued, queued + timedelta(hours=5), None, None, False))  # noqa: E501  # fmt: skip
            continue
        if confirmed >= MAX_WALKERS:
            out.append((ids.signup, shift[0], person, "waitlisted", queued, None, None, None, None, False))  # noqa: E501  # fmt: skip
            continue
        confirmed += 1
        checked_in = held and rng.random() < 0.85
        came = start + timedelta(minutes=rng.randint(-10, 20)) if checked_in else None
        left = (
            end + timedelta(minutes=rng.randint(-30, 40)) if came and rng.random() < 0.9 else None
        )
        out.append((ids.signup, shift[0], person, "confirmed", queued, queued, None, came, left, held and not checked_in))  # noqa: E501  # fmt: skip
        if checked_in:
            walkers.append(person)
    return walkers


def _history(shifts: Rows, signups: Rows) -> tuple[Rows, Rows]:
    """What five years of ticks left for the walks that are long over: each confirmed
    walker's two reminders, group intro, check-in prompt and (having checked in) report
    prompt, sent (outbox rows), and each shift's reminders marked done (due marks). No
    random draws: the store's other rows stay those of the seed."""
    ended = {row[0]: row for row in shifts if row[7] == "planned" and row[4] < NOW - HISTORY_BEFORE}
    messages: Rows = []
    marks: Rows = []
    for shift_id, shift in ended.items():
        for label, _before in REMINDERS:
            marks.append((f"reminded:{label}:shift:{shift_id}:r0", shift[3]))
    for signup in signups:
        shift = ended.get(signup[1])
        if shift is None or signup[3] != "confirmed":
            continue
        start, end = shift[3], shift[4]
        planned = [
            *((f"reminder:{label}:signup:{signup[0]}", "reminder", start - before, start,
               {"label": label, "moves": 0}) for label, before in REMINDERS),
            (f"intro:signup:{signup[0]}", "group_intro", start - timedelta(hours=3), start, {}),
            (f"checkin:signup:{signup[0]}", "check_in_prompt", start, end, {}),
        ]  # fmt: skip
        if signup[7] is not None:  # checked in
            after = end + timedelta(minutes=15)
            planned.append((f"report:signup:{signup[0]}", "report_prompt", after, after + timedelta(hours=24), {}))  # noqa: E501  # fmt: skip
        for key, kind, due, expires, extra in planned:
            payload = _json({"shift_id": signup[1], "signup_id": signup[0], **extra})
            messages.append((key, kind, signup[2], "telegram", payload, "sent", False, 0, due, expires, 1, due, due))  # noqa: E501  # fmt: skip
    return messages, marks


def _reports(
    shift: tuple[Any, ...],
    walkers: list[int],
    mean: float,
    ids: _Ids,
    rng: random.Random,
    out: Rows,
) -> None:
    count = 0 if rng.random() < 0.2 else 1 + (rng.random() < (mean - 0.8) / 0.8)
    authors: list[int | None] = [*walkers[:count]] or [None] * count
    for person in authors:
        ids.report += 1
        submitted = rng.random() < 0.95
        at = shift[4] + timedelta(minutes=30)
        places = [{"place": f"Place {rng.randint(1, 40)}", "category": rng.choice(PLACE_KINDS)}]
        out.append(
            (ids.report, shift[0], person, "submitted" if submitted else "draft", False,
             rng.randint(2, MAX_WALKERS + 2), _json([]), rng.choice(BUCKETS), rng.choice(MOODS),
             _json(rng.sample(HELP, 1) if rng.random() < 0.2 else []),
             _json(rng.sample(SERVICES, rng.randint(1, 2)) if rng.random() < 0.1 else []),
             _json(places if rng.random() < 0.15 else []), "yes", _json([]), at,
             at if submitted else None)
        )  # fmt: skip
