"""The statistics of a range from the walk tallies (``models/tally_tables.py``): each group's
figures are the sums of its walks' rows (tally_rows.py), added up by the database.

A stored tally counts only if it is fresh: its shift has ended, is not listed as due (nothing
changed since it was counted) and it was counted under today's settings (``basis``). Every
other shift of the range (not over yet, changed, never counted) is counted from the raw rows
now and added to the same sums in Python. Both reads are in one snapshot (REPEATABLE READ on
PostgreSQL, one read transaction on SQLite), so no shift is counted twice or missed.
Unique walkers are the distinct ids of the groups' walker lists; new walkers are looked up
live (a first walk depends on every other shift of the walker).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from evaluation.measures import YOUTH_ESTIMATE, PlaceCount
from evaluation.stats_report import Stats, StatsReport, WeekRow
from evaluation.tally_rows import Row, basis, rows_of
from evaluation.time_bands import BANDS
from evaluation.walk_facts import MOODS, YOUTH_BUCKETS, day_range
from evaluation.walk_tally import Tally, first_walks_of, raw_rows, tallies_of
from models.tally_tables import BAND_COLUMNS, MOOD_COLUMNS, SUM_COLUMNS, YOUTH_COLUMNS
from scheduling.common.context import Context

Key = tuple[str, Any]  # ("org", name), ("area", name), ("night", risk), ("band", n), ("week", n)


@dataclass
class Group:
    """A group's running sums: the rows' figures, walkers, services and places."""

    sums: list[int] = field(default_factory=lambda: [0] * (len(SUM_COLUMNS) + 1))
    walkers: set[str] = field(default_factory=set)
    services: Counter[str] = field(default_factory=Counter)
    places: Counter[tuple[str, str]] = field(default_factory=Counter)
    new_walkers: int = 0

    def add(self, figures: Iterable[int], walkers: str | None) -> None:
        self.sums = [a + int(b) for a, b in zip(self.sums, figures, strict=True)]
        if walkers:
            self.walkers.update(walkers.split(","))


_FRESH = """
    FROM walk_tally t JOIN shift s ON s.id = t.shift_id {joins}
    WHERE s.start_at >= :start AND s.start_at < :before {org}
      AND t.basis = :basis AND s.end_at <= :now
      AND NOT EXISTS (SELECT 1 FROM walk_tally_due d WHERE d.shift_id = t.shift_id)
"""
_STALE = """
    SELECT s.id FROM shift s LEFT JOIN walk_tally t ON t.shift_id = s.id
    WHERE s.start_at >= :start AND s.start_at < :before {org}
      AND (t.shift_id IS NULL OR t.basis <> :basis OR s.end_at > :now
           OR EXISTS (SELECT 1 FROM walk_tally_due d WHERE d.shift_id = s.id))
"""
_BAND = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(len(BANDS)))
_KINDS = {  # what a group is, and the joins it needs
    "org": ("o.name", "JOIN organisation o ON o.id = s.organisation_id"),
    "area": ("a.name", "JOIN area a ON a.id = s.area_id"),
    "night": ("s.risk_night", ""),
    "band": ("b.n", f"JOIN ({_BAND}) b ON (t.band_mask & (1 << b.n)) <> 0"),
}


class Sums:
    """The range's groups, filled from the stored tallies and the shifts counted now."""

    def __init__(self, connection: AsyncConnection, params: dict[str, Any], org: str) -> None:
        self.connection, self.params, self.org = connection, params, org
        self.groups: dict[Key, Group] = {}
        self.live_ids: set[int] = set()  # the shifts counted now
        self.held_keys: dict[int, list[Key]] = {}  # their held walks' groups

    def group(self, key: Key) -> Group:
        found = self.groups.get(key)
        if found is None:
            found = self.groups[key] = Group()
        return found

    async def stored(self) -> None:
        """The stored tallies' sums per group (one statement per kind of group)."""
        concat = "group_concat" if self.connection.dialect.name == "sqlite" else "string_agg"
        for kind, (key, joins) in _KINDS.items():
            columns = [f"t.{c}" for c in SUM_COLUMNS]
            if kind == "band":
                cases = " ".join(f"WHEN {n} THEN t.{c}" for n, c in enumerate(BAND_COLUMNS))
                columns[-1] = f"CASE b.n {cases} END"
            sums = ", ".join(f"SUM({c})" for c in columns)
            sql = (
                f"SELECT {key}, COUNT(*), {sums}, {concat}(t.walkers, ',') "
                f"{_FRESH.format(joins=joins, org=self.org)} GROUP BY {key}"
            )
            for found in await raw_rows(self.connection, sql, self.params):
                group_key = (kind, bool(found[0]) if kind == "night" else found[0])
                self.group(group_key).add(found[1:-1], found[-1])

    async def stored_extras(self) -> None:
        """Services and places of the stored tallies that name any, to their groups."""
        sql = (
            f"SELECT o.name, a.name, s.risk_night, t.band_mask, t.services, t.places "
            f"{_FRESH.format(joins=_KINDS['org'][1] + ' ' + _KINDS['area'][1], org=self.org)}"
            " AND (t.services IS NOT NULL OR t.places IS NOT NULL)"
        )
        for org, area, risk, mask, services, places in await raw_rows(
            self.connection, sql, self.params
        ):
            for key in _keys(org, area, bool(risk), mask):
                _extras(self.group(key), services, places)

    def live(self, tallies: list[Tally], rows: list[Row]) -> None:
        """Add the rows of the shifts counted now to their groups."""
        for tally, row in zip(tallies, rows, strict=True):
            keys = _keys(tally.organisation, tally.area, tally.risk_night, row["band_mask"])
            self.live_ids.add(tally.shift_id)
            if row["held"]:
                self.held_keys[tally.shift_id] = keys
            figures = [1, *(row[c] for c in SUM_COLUMNS)]
            for key in keys:
                group = self.group(key)
                group.add(_band_figures(figures, row, key), row["walkers"])
                _extras(group, row["services"], row["places"])


def _keys(org: str, area: str, risk: bool, mask: int) -> list[Key]:
    bands: list[Key] = [("band", n) for n in range(len(BANDS)) if mask >> n & 1]
    return [("org", org), ("area", area), ("night", risk), *bands]


def _band_figures(figures: list[int], row: Row, key: Key) -> list[int]:
    """In a band's group a walk's walker time is its time inside the band."""
    if key[0] != "band":
        return figures
    return [*figures[:-1], row[BAND_COLUMNS[key[1]]]]


def _extras(group: Group, services: str | None, places: str | None) -> None:
    if services:
        group.services.update(json.loads(services))
    if places:
        group.places.update(tuple(pair) for pair in json.loads(places))


async def _new_walkers(sums: Sums, start: Any) -> None:
    """Add to each group the walkers whose first walk ever is one of its held walks."""
    people = set().union(*(g.walkers for k, g in sums.groups.items() if k[0] == "night"))
    firsts = await first_walks_of(sums.connection, sorted(map(int, people)), start)
    stored = [s for s in firsts.values() if s not in sums.live_ids]
    found: dict[int, list[Key]] = {}
    if stored:
        joins = _KINDS["org"][1] + " " + _KINDS["area"][1]
        sql = (
            f"SELECT t.shift_id, o.name, a.name, s.risk_night, t.band_mask "
            f"{_FRESH.format(joins=joins, org=sums.org)} "
            "AND t.held = 1 AND t.shift_id IN :ids"
        )
        for n in range(0, len(stored), 5_000):
            params = sums.params | {"ids": stored[n : n + 5_000]}
            for shift_id, org, area, risk, mask in await raw_rows(sums.connection, sql, params):
                found[shift_id] = _keys(org, area, bool(risk), mask)
    for shift_id in firsts.values():
        for key in found.get(shift_id) or sums.held_keys.get(shift_id, []):
            sums.group(key).new_walkers += 1


async def _weeks(sums: Sums, live: list[Row], first_day: date, last_day: date) -> list[WeekRow]:
    """Walks held and walker-hours per ISO week (by local start), every week of the range."""
    monday = first_day - timedelta(days=first_day.weekday())
    held: Counter[int] = Counter()
    walked: Counter[int] = Counter()
    sql = (
        f"SELECT (t.local_day - :monday) / 7, SUM(t.held), SUM(t.walked_ms) "
        f"{_FRESH.format(joins='', org=sums.org)} GROUP BY (t.local_day - :monday) / 7"
    )
    params = sums.params | {"monday": monday.toordinal()}
    for week, count, milliseconds in await raw_rows(sums.connection, sql, params):
        held[int(week)] += int(count)
        walked[int(week)] += int(milliseconds)
    for row in live:
        week = (row["local_day"] - monday.toordinal()) // 7
        held[week] += row["held"]
        walked[week] += row["walked_ms"]
    weeks = []
    for n in range((last_day - monday).days // 7 + 1):
        day = monday + timedelta(days=7 * n)
        iso = day.isocalendar()
        weeks.append(WeekRow(iso.year, iso.week, day, held[n], round(walked[n] / 3_600_000, 2)))
    return weeks


def stats_of(group: Group) -> Stats:
    """A group's figures from its sums."""
    sums = dict(zip(("planned", *SUM_COLUMNS), group.sums, strict=True))
    youth = {b: sums[c] for b, c in zip(YOUTH_BUCKETS, YOUTH_COLUMNS, strict=True)}
    held, reported = sums["held"], sums["reported"]
    places = sorted(group.places.items(), key=lambda item: (-item[1], item[0]))
    return Stats(
        planned=sums["planned"],
        held=held,
        cancelled=sums["cancelled"],
        understaffed=sums["understaffed"],
        fill_rate=sums["confirmed"] / sums["seats"] if sums["seats"] else None,
        walker_hours=round(sums["walked_ms"] / 3_600_000, 2),
        unique_walkers=len(group.walkers),
        new_walkers=group.new_walkers,
        youth_contacts=sum(YOUTH_ESTIMATE[b] * n for b, n in youth.items()),
        youth_buckets=youth,
        incidents=sums["incidents"],
        emergency_contacts=sums["emergencies"],
        services=dict(sorted(group.services.items())),
        moods={m: sums[c] for m, c in zip(MOODS, MOOD_COLUMNS, strict=True)},
        places=[PlaceCount(place, category, n) for (place, category), n in places],
        reports=sums["reports"],
        walks_reported=reported,
        report_rate=reported / held if held else None,
        alarms=sums["alarms"],
        false_alarms=sums["false_alarms"],
        expected_walkers=sums["expected"],
        no_shows=sums["no_shows"],
    )


def _overall(groups: dict[Key, Group]) -> Group:
    """Every walk: the two kinds of night together (each walk is one or the other)."""
    found = Group()
    for risk in (True, False):
        part = groups.get(("night", risk), Group())
        found.sums = [a + b for a, b in zip(found.sums, part.sums, strict=True)]
        found.walkers |= part.walkers
        found.services += part.services
        found.places += part.places
        found.new_walkers += part.new_walkers
    return found


async def tally_statistics(
    ctx: Context, first_day: date, last_day: date, organisation_id: int | None = None
) -> StatsReport:
    """The statistics of the range (see the module's docstring)."""
    start, before = day_range(ctx, first_day, last_day)
    required = ctx.settings.walks.trained_walkers_per_shift
    params: dict[str, Any] = {
        "start": start,
        "before": before,
        "now": ctx.now(),
        "basis": basis(ctx.zone, required),
    }
    if organisation_id is not None:
        params["org"] = organisation_id
    org = "AND s.organisation_id = :org" if organisation_id is not None else ""
    async with ctx.store.transaction() as session:
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        sums = Sums(connection, params, org)
        stale = await raw_rows(connection, _STALE.format(org=org), params)
        tallies = await tallies_of(connection, [r[0] for r in stale], params["now"], required)
        rows = rows_of(tallies, ctx.zone)
        sums.live(tallies, rows)
        await sums.stored()
        await sums.stored_extras()
        await _new_walkers(sums, start)
        weeks = await _weeks(sums, rows, first_day, last_day)
    return _report(sums.groups, first_day, last_day, organisation_id, weeks)


def _report(
    groups: dict[Key, Group],
    first_day: date,
    last_day: date,
    organisation_id: int | None,
    weeks: list[WeekRow],
) -> StatsReport:
    def named(kind: str) -> list[tuple[str, Stats]]:
        names = sorted((k[1] for k in groups if k[0] == kind), key=str.casefold)
        return [(name, stats_of(groups[(kind, name)])) for name in names]

    return StatsReport(
        first_day=first_day,
        last_day=last_day,
        organisation_id=organisation_id,
        overall=stats_of(_overall(groups)),
        by_organisation=named("org"),
        by_area=named("area"),
        by_band=[
            (band, stats_of(groups.get(("band", n), Group()))) for n, band in enumerate(BANDS)
        ],
        by_night=[
            ("risk", stats_of(groups.get(("night", True), Group()))),
            ("ordinary", stats_of(groups.get(("night", False), Group()))),
        ],
        weeks=weeks,
    )
