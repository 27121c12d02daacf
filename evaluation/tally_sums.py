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
import operator
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from evaluation.measures import YOUTH_ESTIMATE, PlaceCount
from evaluation.rows_ahead import Fetch, rows_ahead
from evaluation.stats_report import Stats, StatsReport, WeekRow
from evaluation.tally_rows import Row, basis, rows_of
from evaluation.time_bands import BANDS
from evaluation.walk_facts import MOODS, YOUTH_BUCKETS, day_range
from evaluation.walk_tally import Tally, raw_rows, tallies_of
from models.tally_tables import BAND_COLUMNS, MOOD_COLUMNS, SUM_COLUMNS, YOUTH_COLUMNS
from scheduling.common.context import Context

Key = tuple[str, Any]  # ("org", name), ("area", name), ("night", risk), ("band", n)


@dataclass(slots=True)
class Group:
    """A group's running sums: the rows' figures, walkers, and the walks' services and places
    lists as stored (JSON, one a walk; the same few recur) until ``settle`` counts them."""

    sums: list[int] = field(default_factory=lambda: [0] * (len(SUM_COLUMNS) + 1))
    walkers: set[str] = field(default_factory=set)
    named: list[str] = field(default_factory=list)  # services lists
    flagged: list[str] = field(default_factory=list)  # places lists
    services: Counter[str] = field(default_factory=Counter)  # on how many walks
    places: Counter[tuple[str, str]] = field(default_factory=Counter)
    new_walkers: int = 0
    owns: bool = False  # ``walkers`` is this group's own set (else one it may not change)

    def add(self, figures: list[int], walkers: set[str], named: Lists, flagged: Lists) -> None:
        self.sums = list(map(operator.add, self.sums, figures))
        self.join(walkers)
        self.named += named
        self.flagged += flagged

    def join(self, walkers: set[str]) -> None:
        """Add walkers; a group without any takes the set given (copied once it grows)."""
        if not self.walkers:
            self.walkers, self.owns = walkers, False
        elif walkers:
            if not self.owns:
                self.walkers, self.owns = set(self.walkers), True
            self.walkers |= walkers

    def settle(self, read: Read) -> None:
        """Count the services and places of the lists kept."""
        for text, n in (Counter(self.named) if self.named else {}).items():
            for service in read(text):
                self.services[service] += n
        for text, n in (Counter(self.flagged) if self.flagged else {}).items():
            for place, category in read(text):
                self.places[(place, category)] += n


Lists = list[str]  # JSON lists, one a walk


class Read:
    """JSON lists, each read once."""

    def __init__(self) -> None:
        self.read: dict[str, list[Any]] = {}

    def __call__(self, text: str) -> list[Any]:
        found = self.read.get(text)
        if found is None:
            found = self.read[text] = json.loads(text)
        return found


SEPARATOR = "\x1f"  # between JSON lists aggregated (JSON text escapes it)


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
      AND t.start_at >= :start AND t.start_at < :before
    WHERE s.start_at >= :start AND s.start_at < :before {org}
      AND (t.shift_id IS NULL OR t.basis <> :basis OR s.end_at > :now)
"""  # a tally's start is its shift's (a change drops it): PostgreSQL joins the range's only
_PLAIN = ", ".join(f"SUM(t.{c})" for c in SUM_COLUMNS)
_SUMS = ", ".join([_PLAIN, *(f"SUM(t.{c})" for c in BAND_COLUMNS)])
NO_BANDS = (0,) * len(BAND_COLUMNS)  # an area's rows: its groups have no bands
_WEEK = "(t.local_day - :monday) / 7"
# Sorted by an aggregate, SQLite sums every group before it gives the first row: the whole
# statement then runs while ``rows_ahead``'s thread has let go of the interpreter lock (row by
# row, each row waited for the lock while the caller worked on the rows before).
_ALL_FIRST = "ORDER BY COUNT(*)"


class Sums:
    """The range's groups, filled from the stored tallies and the shifts counted now."""

    def __init__(self, connection: AsyncConnection, params: dict[str, Any], org: str) -> None:
        self.connection, self.params, self.org = connection, params, org
        self.groups: dict[Key, Group] = {}
        self.live_ids: set[int] = set()  # the shifts counted now
        self.held_keys: dict[int, list[Key]] = {}  # their held walks' groups
        self.names: dict[str, dict[int, str]] = {}
        self.weeks: dict[int, list[int]] = {}  # week (from the range's Monday): held, walked_ms

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

    async def named(self) -> None:
        """The organisations' and areas' names."""
        for kind in ("organisation", "area"):
            self.names[kind] = dict(await self._select(f"SELECT id, name FROM {kind}"))

    def statements(self) -> list[str]:
        """The stored tallies' sums, walkers, services and places: per organisation, night
        and band, then per area; the weeks; the first walks (``_new_walkers``)."""
        sqlite = self.connection.dialect.name == "sqlite"
        concat = "group_concat" if sqlite else "string_agg"
        separator = "char(31)" if sqlite else "chr(31)"
        lists = (
            f"{concat}(t.walkers, ','), {concat}(t.services, {separator}), "
            f"{concat}(t.places, {separator})"
        )
        by, fresh = "t.organisation_id, t.risk_night, t.band_mask", self._fresh()
        return [
            f"SELECT {by}, COUNT(*), {_SUMS}, {lists} {fresh} GROUP BY {by} {_ALL_FIRST}",
            f"SELECT t.area_id, COUNT(*), {_PLAIN}, {lists} {fresh} GROUP BY 1 {_ALL_FIRST}",
            f"SELECT {_WEEK}, SUM(t.held), SUM(t.walked_ms) {fresh} GROUP BY 1 {_ALL_FIRST}",
            _FIRST_WALKS.format(org=self.org.replace("s.", "t."), plus=self.plus()),
        ]

    async def stored(self, fetch: Fetch) -> None:
        """Add up the rows of the first three ``statements``."""
        orgs, areas = self.names["organisation"], self.names["area"]
        for found in await fetch(0):
            keys: list[Key] = [("org", orgs[found[0]]), ("night", bool(found[1]))]
            self.to(keys, found[2], found[3:-3], *_lists(*found[-3:]))
        for found in await fetch(1):
            figures = (*found[1:-3], *NO_BANDS)
            self.to([("area", areas[found[0]])], 0, figures, *_lists(*found[-3:]))
        for week, held, walked in await fetch(2):
            self.week(int(week), int(held), int(walked))

    def to(
        self,
        keys: list[Key],
        mask: int,
        figures: Sequence[Any],
        walkers: set[str],
        named: Lists,
        flagged: Lists,
    ) -> None:
        """Figures (the band milliseconds last), walkers, services and places to the groups
        ``keys`` and the bands in ``mask`` (there, the walker time is that inside the band)."""
        ints = [int(f) for f in figures]  # PostgreSQL's sums of bigints are numeric
        plain, bands = ints[: -len(BAND_COLUMNS)], ints[-len(BAND_COLUMNS) :]
        for key in keys:
            self.group(key).add(plain, walkers, named, flagged)
        for n in range(len(BANDS)):
            if mask >> n & 1:
                self.group(("band", n)).add([*plain[:-1], bands[n]], walkers, named, flagged)

    def week(self, week: int, held: int, walked_ms: int) -> None:
        found = self.weeks.setdefault(week, [0, 0])
        found[0] += held
        found[1] += walked_ms

    def live(self, tallies: list[Tally], rows: list[Row], monday: date) -> None:
        """Add the rows of the shifts counted now to their groups."""
        for tally, row in zip(tallies, rows, strict=True):
            self.live_ids.add(tally.shift_id)
            keys = _keys(tally.organisation, tally.area, tally.risk_night, row["band_mask"])
            if row["held"]:
                self.held_keys[tally.shift_id] = keys
            figures = [1, *(row[c] for c in SUM_COLUMNS), *(row[c] for c in BAND_COLUMNS)]
            walk = _lists(row["walkers"], row["services"], row["places"])
            self.to(keys[:3], row["band_mask"], figures, *walk)
            self.week((row["local_day"] - monday.toordinal()) // 7, row["held"], row["walked_ms"])


def _lists(walkers: str | None, named: str | None, flagged: str | None) -> _Walks:
    """Aggregated (or one walk's) walkers, services lists and places lists."""
    return (
        set(walkers.split(",")) if walkers else set(),
        named.split(SEPARATOR) if named else [],
        flagged.split(SEPARATOR) if flagged else [],
    )


_Walks = tuple[set[str], Lists, Lists]


def _keys(org: str, area: str, risk: bool, mask: int) -> list[Key]:
    bands: list[Key] = [("band", n) for n in range(len(BANDS)) if mask >> n & 1]
    return [("org", org), ("area", area), ("night", risk), *bands]


_FIRST_WALKS = """
    SELECT f.shift_id, t.organisation_id, t.area_id, t.risk_night, t.band_mask
    FROM first_walk f LEFT JOIN walk_tally t ON t.shift_id = f.shift_id {org}
      AND {plus}t.basis = :basis AND t.end_at <= :now
    WHERE f.start_at >= :start AND f.start_at < :before
"""


def _new_walkers(sums: Sums, first_walks: list[tuple[Any, ...]]) -> None:
    """Add to each group the walkers whose first walk ever (``first_walk``, kept by triggers)
    is one of its held walks: the first walks in the range (``_FIRST_WALKS``), their walks'
    groups from the fresh tallies or from the walks counted now. (A stored walk is over, and
    a first walk has a check-in: it was held.)"""
    orgs, areas = sums.names["organisation"], sums.names["area"]
    for shift_id, org, area, risk, mask in first_walks:
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
        held, walked_ms = sums.weeks.get(n, (0, 0))
        weeks.append(WeekRow(iso.year, iso.week, day, held, round(walked_ms / 3_600_000, 2)))
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
        found.join(part.walkers)
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
        await sums.named()
        async with rows_ahead(connection, sums.statements(), sums.params) as fetch:
            await sums.stored(fetch)
            sums.live(tallies, rows_of(tallies, ctx.zone), monday)
            _new_walkers(sums, await fetch(3))
    read = Read()
    for group in sums.groups.values():
        group.settle(read)
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
