"""The facts statistics count, read with a few aggregating statements instead of objects.

``load_walks`` (walk_facts.py) builds a ``Walk`` with every sign-up and report of every shift:
right for exports and payments, far too slow for years of a big town. Statistics need less: per
shift its head-counts (counted by the database), per walker who checked in the person and the
times (as seconds since 1970, so Python never parses a date), per shift its submitted reports
merged (largest youth bucket, most unruly mood, whether help was given) and, only for the
reports that name any, the services contacted and places flagged. The definitions are those of
walk_facts.py; ``tally_stats.py`` counts them, and a test checks both give the same figures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from evaluation.walk_facts import MOODS, REPORT_SUBMITTED, YOUTH_BUCKETS, day_range
from models import first_write
from models.tables import AlarmStatus, ShiftStatus, SignupStatus
from scheduling.common.context import Context

CHUNK = 5_000  # ids per IN list

Interval = tuple[float, float]  # seconds since 1970, UTC


@dataclass(slots=True)
class Tally:
    """One shift in the range and what statistics need of it."""

    shift_id: int
    organisation: str
    area: str
    start_s: float
    end_s: float
    cancelled: bool
    ended: bool
    risk_night: bool
    max_walkers: int
    confirmed: int
    understaffed: bool
    walkers: list[int] = field(default_factory=list)  # checked in (confirmed sign-ups)
    intervals: list[Interval] = field(default_factory=list)  # known check-in to check-out
    known_s: float = 0.0  # the intervals' seconds together
    planned_walkers: int = 0  # checked in without a usable check-out
    reports: int = 0
    reported_present: int | None = None
    youth: int | None = None  # index into YOUTH_BUCKETS
    mood: int | None = None  # index into MOODS
    helped: bool = False
    services: frozenset[str] = frozenset()
    places: frozenset[tuple[str, str]] = frozenset()
    new_walkers: int = 0  # people whose first walk ever this is
    alarms: int = 0  # raised by walkers on the shift, false alarms not counted
    false_alarms: int = 0  # called off by the walker who raised them
    no_shows: int = 0  # confirmed walkers marked absent after the walk

    @property
    def held(self) -> bool:
        return not self.cancelled and self.ended and bool(self.walkers or self.reports)

    @property
    def walkers_present(self) -> int:
        checked_in = len(self.walkers)
        reported = self.reported_present
        return checked_in if reported is None or reported < checked_in else reported

    @property
    def extra_walkers(self) -> int:
        """Walkers the reports count beyond those who checked in (they walked the planned
        time)."""
        return self.walkers_present - len(self.walkers)

    @property
    def planned(self) -> Interval:
        return (self.start_s, self.end_s)


def _epoch(connection: AsyncConnection, column: str) -> str:
    if connection.dialect.name == "sqlite":
        return f"ROUND((julianday({column}) - 2440587.5) * 86400.0, 3)"  # to the millisecond
    return f"CAST(EXTRACT(EPOCH FROM {column}) AS DOUBLE PRECISION)"


def _ranked(column: str, values: Sequence[str]) -> str:
    """The value's position in ``values`` (NULL for anything else), to take the largest."""
    cases = " ".join(f"WHEN '{v}' THEN {n}" for n, v in enumerate(values))
    return f"CASE {column} {cases} END"


_IN_RANGE = "s.start_at >= :start AND s.start_at < :before"
_OF_IDS = "s.id IN :ids"  # the shifts ``tallies_of`` counts


def _where(organisation_id: int | None) -> str:
    """The shifts of the range (one organisation's when given)."""
    return _IN_RANGE + (" AND s.organisation_id = :org" if organisation_id is not None else "")


def _chosen(where: str) -> str:
    return f"SELECT s.id FROM shift s WHERE {where}"


async def raw_rows(
    connection: AsyncConnection, sql: str, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows as the driver gives them, as plain tuples: hundreds of thousands of rows cost
    a fraction of SQLAlchemy's result rows. ``sql`` takes ``:name`` parameters; datetimes are
    aware and lists are expanded for ``IN :name`` (on SQLite a list of integers is written out:
    binding thousands of parameters by name costs more than the lookups). On SQLite the
    statement runs on this loop's thread like every other (models/sqlite_loop.py). On
    PostgreSQL a locking read goes through SQLAlchemy: a transaction that begins at its first
    write or lock (models/first_write.py) then begins with it and holds the lock."""
    if connection.dialect.name != "sqlite" and first_write.needs_transaction(sql):
        return await _locking_rows(connection, sql, params)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if connection.dialect.name == "sqlite":
        return list(driver._conn.execute(*sqlite_statement(sql, params)).fetchall())
    if connection.dialect.driver == "asyncpg":
        return await _asyncpg_rows(driver, _any_lists(sql, params), params)
    async with driver.cursor() as cursor:
        await cursor.execute(_psycopg_statement(sql, params), params)
        return list(await cursor.fetchall())


def sqlite_statement(sql: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``raw_rows``' statement and parameters for sqlite3."""
    values: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, list) and all(type(v) is int for v in value):
            listed = ", ".join(map(str, value)) or "NULL"  # integers: written out
            sql = re.sub(rf":{name}\b", f"({listed})", sql)
        elif isinstance(value, list):
            names = [f"{name}_{n}" for n in range(len(value))] or [f"{name}_none"]
            sql = re.sub(rf":{name}\b", f"({', '.join(':' + n for n in names)})", sql)
            values.update(zip(names, value or [None], strict=True))
        elif isinstance(value, datetime):  # as SQLAlchemy stores them: naive UTC text
            values[name] = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        else:
            values[name] = value
    return sql, values


def _any_lists(sql: str, params: dict[str, Any]) -> str:
    for name, value in params.items():
        if isinstance(value, list):
            sql = re.sub(rf"IN :{name}\b", f"= ANY(:{name})", sql)
    return sql


def _psycopg_statement(sql: str, params: dict[str, Any]) -> str:
    """``raw_rows``' statement for psycopg (its parameters as given)."""
    return re.sub(r"(?<![:\w]):([a-z_]+)\b", r"%(\1)s", _any_lists(sql, params))


async def _locking_rows(
    connection: AsyncConnection, sql: str, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """A locking read through SQLAlchemy (its events: ``models/first_write.py`` sees it)."""
    lists: list[BindParameter[Any]] = [
        bindparam(name, expanding=True) for name, v in params.items() if isinstance(v, list)
    ]
    result = await connection.execute(text(sql).bindparams(*lists), params)
    return [tuple(row) for row in result]


async def _asyncpg_rows(driver: Any, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The same on asyncpg (``postgresql+asyncpg://``): numbered parameters, records as tuples."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = re.sub(r"(?<![:\w]):([a-z_]+)\b", number, sql)
    return [tuple(record) for record in await driver.fetch(sql, *(params[n] for n in names))]


async def load_tallies(
    ctx: Context, first_day: date, last_day: date, organisation_id: int | None = None
) -> list[Tally]:
    """Every shift starting on the local days given (both included), in start order."""
    start, before = day_range(ctx, first_day, last_day)
    params: dict[str, Any] = {"start": start, "before": before, "now": ctx.now()}
    if organisation_id is not None:
        params["org"] = organisation_id
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        where = _where(organisation_id)
        required = ctx.settings.walks.trained_walkers_per_shift
        tallies = await _counted(connection, params, where, required)
        await _new_walkers(connection, params, {t.shift_id: t for t in tallies})
    return tallies


async def tallies_of(
    connection: AsyncConnection, shift_ids: Sequence[int], now: datetime, required: int
) -> list[Tally]:
    """The tallies of the shifts given, as they stand at ``now`` (``required``: trained
    walkers a shift needs), without ``new_walkers`` (see ``first_walks_of``)."""
    tallies: list[Tally] = []
    for chunk in range(0, len(shift_ids), CHUNK):
        params = {"ids": list(shift_ids[chunk : chunk + CHUNK]), "now": now}
        tallies += await _counted(connection, params, _OF_IDS, required)
    return tallies


async def _counted(
    connection: AsyncConnection, params: dict[str, Any], where: str, required: int
) -> list[Tally]:
    """The chosen shifts' tallies: head-counts, walkers, reports and alarms."""
    tallies = await _shifts(connection, params, where, required)
    by_id = {t.shift_id: t for t in tallies}
    await _walkers(connection, params, where, by_id)
    await _reports(connection, params, where, by_id)
    await _alarms(connection, params, where, by_id)
    return tallies


async def _shifts(
    connection: AsyncConnection, params: dict[str, Any], where: str, required: int
) -> list[Tally]:
    statement = f"""
        SELECT s.id, o.name, a.name, {_epoch(connection, "s.start_at")},
               {_epoch(connection, "s.end_at")}, s.status, s.end_at <= :now, s.risk_night,
               s.min_walkers, s.max_walkers, COALESCE(c.confirmed, 0), COALESCE(c.trained, 0),
               COALESCE(c.no_shows, 0)
        FROM shift s
        JOIN organisation o ON o.id = s.organisation_id
        JOIN area a ON a.id = s.area_id
        LEFT JOIN (
            SELECT su.shift_id, COUNT(*) AS confirmed,
                   SUM(CASE WHEN p.trained THEN 1 ELSE 0 END) AS trained,
                   SUM(CASE WHEN su.no_show THEN 1 ELSE 0 END) AS no_shows
            FROM signup su JOIN person p ON p.id = su.person_id
            WHERE su.status = '{SignupStatus.CONFIRMED}'
              AND su.shift_id IN ({_chosen(where)})
            GROUP BY su.shift_id
        ) c ON c.shift_id = s.id
        WHERE {where}
        ORDER BY s.start_at, s.id
    """
    return [_tally(row, required) for row in await raw_rows(connection, statement, params)]


def _tally(row: tuple[Any, ...], required: int) -> Tally:
    """One row of ``_shifts``: id, organisation, area, start and end (seconds), status, over,
    risk night, min, max, confirmed, trained, no-shows."""
    return Tally(
        shift_id=row[0],
        organisation=row[1],
        area=row[2],
        start_s=float(row[3]),
        end_s=float(row[4]),
        cancelled=row[5] == ShiftStatus.CANCELLED,
        ended=bool(row[6]),
        risk_night=bool(row[7]),
        max_walkers=row[9],
        confirmed=row[10],
        understaffed=row[5] != ShiftStatus.CANCELLED and (row[10] < row[8] or row[11] < required),
        no_shows=int(row[12]),
    )


async def _walkers(
    connection: AsyncConnection, params: dict[str, Any], where: str, by_id: dict[int, Tally]
) -> None:
    """Who checked in on each shift, and when they came and went."""
    statement = f"""
        SELECT su.shift_id, su.person_id, {_epoch(connection, "su.checked_in_at")},
               {_epoch(connection, "su.checked_out_at")}
        FROM signup su
        WHERE su.status = '{SignupStatus.CONFIRMED}' AND su.checked_in_at IS NOT NULL
          AND su.shift_id IN ({_chosen(where)})
    """
    for shift_id, person_id, came, left in await raw_rows(connection, statement, params):
        tally = by_id[shift_id]
        tally.walkers.append(person_id)
        if left is not None and left > came:
            tally.intervals.append((came, left))
            tally.known_s += left - came
        else:
            tally.planned_walkers += 1


async def _alarms(
    connection: AsyncConnection, params: dict[str, Any], where: str, by_id: dict[int, Tally]
) -> None:
    """How many alarms each shift had, and how many of them were called off."""
    statement = f"""
        SELECT a.shift_id, a.status = '{AlarmStatus.CANCELLED}', COUNT(*)
        FROM alarm a WHERE a.shift_id IN ({_chosen(where)})
        GROUP BY a.shift_id, a.status = '{AlarmStatus.CANCELLED}'
    """
    for shift_id, called_off, count in await raw_rows(connection, statement, params):
        tally = by_id[shift_id]
        if called_off:
            tally.false_alarms += int(count)
        else:
            tally.alarms += int(count)


async def _reports(
    connection: AsyncConnection, params: dict[str, Any], where: str, by_id: dict[int, Tally]
) -> None:
    """Each shift's submitted reports, merged."""
    of_range = f"r.status = '{REPORT_SUBMITTED}' AND r.shift_id IN ({_chosen(where)})"
    merged = f"""
        SELECT r.shift_id, COUNT(*), MAX(r.walkers_present),
               MAX({_ranked("r.youth_met", YOUTH_BUCKETS)}), MAX({_ranked("r.mood", MOODS)}),
               MAX(CASE WHEN CAST(r.help_given AS TEXT) NOT IN ('[]', 'null')
                   THEN 1 ELSE 0 END)
        FROM report r WHERE {of_range} GROUP BY r.shift_id
    """
    for shift_id, count, present, youth, mood, helped in await raw_rows(connection, merged, params):
        tally = by_id[shift_id]
        tally.reports, tally.reported_present = count, present
        tally.youth, tally.mood, tally.helped = youth, mood, bool(helped)
    named = f"""
        SELECT r.shift_id, r.services_contacted, r.place_issues FROM report r
        WHERE {of_range} AND (CAST(r.services_contacted AS TEXT) NOT IN ('[]', 'null')
                              OR CAST(r.place_issues AS TEXT) NOT IN ('[]', 'null'))
    """
    for shift_id, services, places in await raw_rows(connection, named, params):
        tally = by_id[shift_id]
        tally.services = tally.services | frozenset(_json_list(services))
        tally.places = tally.places | frozenset(
            (str(issue.get("spot") or issue.get("place", "")), str(issue.get("category", "")))
            for issue in _json_list(places)
        )


def _json_list(value: Any) -> list[Any]:
    found = json.loads(value) if isinstance(value, str) else value
    return found if isinstance(found, list) else []


async def _new_walkers(
    connection: AsyncConnection, params: dict[str, Any], by_id: dict[int, Tally]
) -> None:
    """Count, on each shift, the walkers whose first walk ever it is."""
    people = sorted({p for t in by_id.values() if not t.cancelled for p in t.walkers})
    for shift_id in (await first_walks_of(connection, people, params["start"])).values():
        if shift_id in by_id:
            by_id[shift_id].new_walkers += 1


async def first_walks_of(
    connection: AsyncConnection, people: Sequence[int], start: datetime
) -> dict[int, int]:
    """Of the people given, those who had not walked before ``start``: the shift of their
    first walk ever (the earliest shift not cancelled on which they checked in). Most
    walkers walked before: one look each at their earliest walk settles it."""
    qualifying = (
        f"su.status = '{SignupStatus.CONFIRMED}' AND su.checked_in_at IS NOT NULL "
        f"AND s.status <> '{ShiftStatus.CANCELLED}'"
    )
    earlier = f"""
        SELECT p.id FROM person p WHERE p.id IN :people AND NOT EXISTS (
            SELECT 1 FROM signup su JOIN shift s ON s.id = su.shift_id
            WHERE su.person_id = p.id AND {qualifying} AND s.start_at < :start)
    """
    first_timers: list[int] = []
    for chunk in range(0, len(people), CHUNK):
        found = await raw_rows(
            connection, earlier, {"people": list(people[chunk : chunk + CHUNK]), "start": start}
        )
        first_timers += [row[0] for row in found]
    walks = f"""
        SELECT su.person_id, s.id FROM signup su JOIN shift s ON s.id = su.shift_id
        WHERE su.person_id IN :people AND {qualifying} ORDER BY s.start_at, s.id
    """
    first: dict[int, int] = {}
    for chunk in range(0, len(first_timers), CHUNK):
        found = await raw_rows(connection, walks, {"people": first_timers[chunk : chunk + CHUNK]})
        for person_id, shift_id in found:
            first.setdefault(person_id, shift_id)
    return first
