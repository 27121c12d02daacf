"""The statistics of a range from the walk tallies (``models/tally_tables.py``): each group's
figures are the sums of its walks' rows (tally_rows.py), added up by the database.

A stored tally counts only if it is fresh: its shift has ended, is not listed as due (nothing
changed since it was counted) and it was counted under today's settings (``basis``). Every
other shift of the range (not over yet, changed, never counted) is counted from the raw rows
now and added to the same sums in Python. Both reads are in one snapshot (REPEATABLE READ on
PostgreSQL, one read transaction on SQLite), so no shift is counted twice or missed.
Unique walkers are the distinct ids of the groups' walker lists; new walkers are those whose
first walk ever (``first_walk``, kept by triggers in the same transaction as any change to the
rows it depends on) is one of the range's held walks.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import chain
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from evaluation.measures import YOUTH_ESTIMATE, PlaceCount
from evaluation.stats_report import Stats, StatsReport, WeekRow
from evaluation.tally_rows import Row, basis, rows_of
from evaluation.time_bands import BANDS
from evaluation.walk_facts import MOODS, YOUTH_BUCKETS, day_range
from evaluation.walk_tally import Tally, raw_rows, tallies_of
from models.tally_tables import BAND_COLUMNS, MOOD_COLUMNS, SUM_COLUMNS, YOUTH_COLUMNS
from scheduling.common.context import Context

Key = tuple[str, Any]  # ("org", name), ("area", name), ("night", risk), ("band", n), ("week", n)


@dataclass
class Group:
    """A group's running sums: the rows' figures, walkers, services and places."""

    sums: list[int] = field(default_factory=lambda: [0] * (len(SUM_COLUMNS) + 1))
    walkers: set[str] = field(default_factory=set)
    services: Counter[str] = field(default_factory=Counter)  # on how many walks
    places: Counter[tuple[str, str]] = field(default_factory=Counter)
    new_walkers: int = 0

    def add(self, figures: Iterable[int], walkers: list[str]) -> None:
        self.sums = [a + int(b) for a, b in zip(self.sums, figures, strict=True)]
        self.walkers.update(walkers)

    def named(self, walks: list[tuple[list[str], list[list[str]]]]) -> None:
        """Held walks' services contacted and places flagged."""
        services, places = _counted(walks)
        self.services.update(services)
        self.places.update(places)


def _counted(
    walks: list[tuple[list[str], list[list[str]]]],
) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    services = Counter(chain.from_iterable(named[0] for named in walks))
    places = Counter((p, c) for named in walks for p, c in named[1])
    return services, places


_FRESH = """
    FROM walk_tally t
    WHERE t.start_at >= :start AND t.start_at < :before {org}
      AND {plus}t.basis = :basis AND t.end_at <= :now
"""
# SQLite without table statistics (no ANALYZE) takes the equality on ``basis`` (one value in
# every row) over the range of ``start_at`` and reads every tally ever: "+" keeps it off that
# index (2.5 times faster over a year of five). PostgreSQL plans by its statistics.
_STALE = """
    SELECT s.id FROM shift s LEFT JOIN walk_tally t ON t.shift_id = s.id
    WHERE s.start_at >= :start AND s.start_at < :before {org}
      AND (t.shift_id IS NULL OR t.basis <> :basis OR s.end_at > :now)
"""
_SUMS = ", ".join(f"SUM(t.{c})" for c in (*SUM_COLUMNS, *BAND_COLUMNS))
_WEEK = "(t.local_day - :monday) / 7"
HELD = 1 + SUM_COLUMNS.index("held")  # in a row of figures: planned first, then SUM_COLUMNS


class Sums:
    """The range's groups, filled from the stored tallies and the shifts counted now."""

    def __init__(self, connection: AsyncConnection, params: dict[str, Any], org: str) -> None:
        self.connection, self.params, self.org = connection, params, org
        self.groups: dict[Key, Group] = {}
        self.live_ids: set[int] = set()  # the shifts counted now
        self.held_keys: dict[int, list[Key]] = {}  # their held walks' groups
        self.names: dict[str, dict[int, str]] = {}
        self.by_area: dict[str, list[Any]] = {}  # services and places (naming)
        self.by_org: dict[tuple[str, bool, int], list[Any]] = {}

    def group(self, key: Key) -> Group:
        found = self.groups.get(key)
        if found is None:
            found = self.groups[key] = Group()
        return found

    def plus(self) -> str:
        return "+" if self.connection.dialect.name == "sqlite" else ""

    def _fresh(self) -> str:
        return _FRESH.format(org=self.org.replace("s.", "t."), plus=self.plus())

    async def _select(self, sql: str) -> list[tuple[Any, ...]]:
        return await raw_rows(self.connection, sql, self.params)

    async def stored(self) -> None:
        """The stored tallies' sums: per organisation, night and band in one statement, per
        area in another; the weeks; the services and places of the walks naming any."""
        concat = "group_concat" if self.connection.dialect.name == "sqlite" else "string_agg"
        for kind in ("organisation", "area"):
            self.names[kind] = dict(await self._select(f"SELECT id, name FROM {kind}"))
        orgs, areas = self.names["organisation"], self.names["area"]
        by = "t.organisation_id, t.risk_night, t.band_mask"
        sql = (
            f"SELECT {by}, COUNT(*), {_SUMS}, {concat}(t.walkers, ',') "
            f"{self._fresh()} GROUP BY {by}"
        )
        for found in await self._select(sql):
            keys: list[Key] = [("org", orgs[found[0]]), ("night", bool(found[1]))]
            self.to(keys, found[2], list(found[3:-1]), _split(found[-1]))
        sql = (
            f"SELECT t.area_id, COUNT(*), {_SUMS}, {concat}(t.walkers, ',') "
            f"{self._fresh()} GROUP BY t.area_id"
        )
        for found in await self._select(sql):
            self.to([("area", areas[found[0]])], 0, list(found[1:-1]), _split(found[-1]))
        sql = f"SELECT {_WEEK}, SUM(t.held), SUM(t.walked_ms) {self._fresh()} GROUP BY {_WEEK}"
        for week, held, walked in await self._select(sql):
            self.week(int(week), int(held), int(walked))
        sql = (
            f"SELECT t.organisation_id, t.area_id, t.risk_night, t.band_mask, t.services, "
            f"t.places {self._fresh()} AND (t.services IS NOT NULL OR t.places IS NOT NULL)"
        )
        for org, area, risk, mask, services, places in await self._select(sql):
            self.naming(orgs[org], areas[area], bool(risk), mask, services, places)

    def naming(self, org: str, area: str, risk: bool, mask: int, *lists: str | None) -> None:
        """A held walk's services and places (JSON), kept per organisation, night and
        bands, and per area: ``named`` counts them into the groups."""
        walk = (_json(lists[0]), _json(lists[1]))
        self.by_area.setdefault(area, []).append(walk)
        self.by_org.setdefault((org, risk, mask), []).append(walk)

    def named(self) -> None:
        """Count the services and places kept by ``naming`` into the groups."""
        for area, walks in self.by_area.items():
            self.group(("area", area)).named(walks)
        for (org, risk, mask), walks in self.by_org.items():
            services, places = _counted(walks)
            for key in _keys(org, "", risk, mask):
                if key[0] != "area":
                    self.group(key).services.update(services)
                    self.group(key).places.update(places)

    def to(self, keys: list[Key], mask: int, figures: list[int], walkers: list[str]) -> None:
        """Figures (the band milliseconds last) to the groups ``keys`` and the bands in
        ``mask`` (there, the walker time is that inside the band)."""
        plain, bands = figures[: -len(BAND_COLUMNS)], figures[-len(BAND_COLUMNS) :]
        for key in keys:
            self.group(key).add(plain, walkers)
        for n in range(len(BANDS)):
            if mask >> n & 1:
                self.group(("band", n)).add([*plain[:-1], bands[n]], walkers)

    def week(self, week: int, held: int, walked_ms: int) -> None:
        found = self.group(("week", week))
        found.sums[HELD] += held
        found.sums[-1] += walked_ms

    def live(self, tallies: list[Tally], rows: list[Row], monday: date) -> None:
        """Add the rows of the shifts counted now to their groups."""
        for tally, row in zip(tallies, rows, strict=True):
            self.live_ids.add(tally.shift_id)
            keys = _keys(tally.organisation, tally.area, tally.risk_night, row["band_mask"])
            if row["held"]:
                self.held_keys[tally.shift_id] = keys
            figures = [1, *(row[c] for c in SUM_COLUMNS), *(row[c] for c in BAND_COLUMNS)]
            self.to(keys[:3], row["band_mask"], figures, _split(row["walkers"]))
            if row["services"] or row["places"]:
                self.naming(
                    tally.organisation,
                    tally.area,
                    tally.risk_night,
                    row["band_mask"],
                    row["services"],
                    row["places"],
                )
            self.week((row["local_day"] - monday.toordinal()) // 7, row["held"], row["walked_ms"])


def _split(walkers: str | None) -> list[str]:
    return walkers.split(",") if walkers else []


def _json(text: str | None) -> list[Any]:
    return json.loads(text) if text else []


def _keys(org: str, area: str, risk: bool, mask: int) -> list[Key]:
    bands: list[Key] = [("band", n) for n in range(len(BANDS)) if mask >> n & 1]
    return [("org", org), ("area", area), ("night", risk), *bands]


async def _new_walkers(sums: Sums) -> None:
    """Add to each group the walkers whose first walk ever (``first_walk``, kept by triggers)
    is one of its held walks: the first walks in the range, their walks' groups from the
    fresh tallies or from the walks counted now. (A stored walk is over, and a first walk
    has a check-in: it was held.)"""
    sql = (
        "SELECT f.shift_id, t.organisation_id, t.area_id, t.risk_night, t.band_mask "
        "FROM first_walk f LEFT JOIN walk_tally t ON t.shift_id = f.shift_id "
        f"{sums.org.replace('s.', 't.')} "
        f"AND {sums.plus()}t.basis = :basis AND t.end_at <= :now "
        "WHERE f.start_at >= :start AND f.start_at < :before"
    )
    orgs, areas = sums.names["organisation"], sums.names["area"]
    for shift_id, org, area, risk, mask in await sums._select(sql):
        if shift_id in sums.live_ids:
            keys = sums.held_keys.get(shift_id, [])
        elif org is not None:
            keys = _keys(orgs[org], areas[area], bool(risk), mask)
        else:  # another organisation's
            continue
        for key in keys:
            sums.group(key).new_walkers += 1


def _weeks(sums: Sums, first_day: date, last_day: date) -> list[WeekRow]:
    """Walks held and walker-hours per ISO week (by local start), every week of the range."""
    monday = first_day - timedelta(days=first_day.weekday())
    weeks = []
    for n in range((last_day - monday).days // 7 + 1):
        day = monday + timedelta(days=7 * n)
        iso = day.isocalendar()
        found = sums.groups.get(("week", n), Group())
        hours = round(found.sums[-1] / 3_600_000, 2)
        weeks.append(WeekRow(iso.year, iso.week, day, found.sums[HELD], hours))
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
        if connection.dialect.name == "postgresql" and not session.in_nested_transaction():
            await connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        monday = first_day - timedelta(days=first_day.weekday())
        sums = Sums(connection, params | {"monday": monday.toordinal()}, org)
        stale = await raw_rows(connection, _STALE.format(org=org), params)
        tallies = await tallies_of(connection, [r[0] for r in stale], params["now"], required)
        await sums.stored()
        sums.live(tallies, rows_of(tallies, ctx.zone), monday)
        await _new_walkers(sums)
    sums.named()
    weeks = _weeks(sums, first_day, last_day)
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
