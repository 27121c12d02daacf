"""Statistics of the walks for a local date range: overall, per organisation, per area, per
Purple Flag time band, and for risk nights versus ordinary nights.

Each statistic is one function over a sequence of ``Walk`` (evaluation/walk_facts.py defines
"held", "walkers present" and how several reports of one walk are merged). Definitions:

- planned: every shift starting in the range, whatever became of it; cancelled: those
  cancelled; held: see walks.py; understaffed: not cancelled and, with the sign-ups as they
  stand, fewer confirmed walkers than the minimum or too few trained walkers.
- fill rate: confirmed seats ÷ maximum seats, over the shifts not cancelled.
- walker-hours: over held walks, each walker who checked in counts check-in to check-out when
  both are known, else the planned duration; walkers present by the report but not checked in
  count the planned duration.
- unique walkers: distinct people who checked in on a held walk (report-only walkers have no
  name, so they are not counted here); new walkers: those whose first walk ever is in the range.
- youth contacts: an estimate from the report buckets, ``YOUTH_ESTIMATE`` (the midpoint of each
  bucket rounded down; 60 for "more than 50"), next to the exact count of walks per bucket.
- incidents: held walks on which help was given or a service was contacted; emergency
  contacts: walks on which 112 or the police (114 14) were contacted.
- report rate: held walks with at least one submitted report ÷ held walks.
- time bands (local time): 17–20, 20–23, 23–02, 02–05. A walk counts in every band its planned
  time overlaps, so band figures do not add up to the total; walker-hours in a band are the
  part of each walker's time inside the band.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from evaluation.walk_facts import MOODS, YOUTH_BUCKETS, Walk, first_walks, load_walks
from scheduling.common.context import Context
from scheduling.people.access import Actor
from scheduling.people.scope import organisation_scope

YOUTH_ESTIMATE: dict[str, int] = {"0": 0, "1-10": 5, "11-30": 20, "31-50": 40, "50+": 60}
EMERGENCY_SERVICES = frozenset({"112", "police"})
BANDS: dict[str, tuple[int, int]] = {
    "17-20": (17, 20),
    "20-23": (20, 23),
    "23-02": (23, 2),
    "02-05": (2, 5),
}
NIGHT_KINDS = ("risk", "ordinary")

Interval = tuple[datetime, datetime]
Clip = Callable[[Interval], float]


# --- one function per statistic --------------------------------------------------------------


def shifts_planned(walks: Sequence[Walk]) -> int:
    """Every shift in the range, whatever became of it."""
    return len(walks)


def shifts_cancelled(walks: Sequence[Walk]) -> int:
    return sum(1 for w in walks if w.cancelled)


def shifts_held(walks: Sequence[Walk]) -> int:
    return sum(1 for w in walks if w.held)


def shifts_understaffed(walks: Sequence[Walk]) -> int:
    return sum(1 for w in walks if w.understaffed)


def fill_rate(walks: Sequence[Walk]) -> float | None:
    """Confirmed seats ÷ maximum seats of the shifts not cancelled (None without shifts)."""
    active = [w for w in walks if not w.cancelled]
    seats = sum(w.shift.max_walkers for w in active)
    return sum(w.view.confirmed for w in active) / seats if seats else None


def walker_intervals(walk: Walk) -> list[Interval]:
    """The time each walker present spent walking (planned time where not known)."""
    planned = (walk.shift.start_at, walk.shift.end_at)
    intervals = [
        (p.checked_in_at, p.checked_out_at)
        if p.checked_in_at is not None
        and p.checked_out_at is not None
        and p.checked_out_at > p.checked_in_at
        else planned
        for p in walk.checked_in
    ]
    extra = walk.walkers_present - len(intervals)
    return intervals + [planned] * extra


def walker_hours(walks: Sequence[Walk], clip: Clip | None = None) -> float:
    """Hours walked, over held walks; ``clip`` keeps only the part inside a time band."""
    measure = clip or _length_hours
    return sum(measure(i) for w in walks if w.held for i in walker_intervals(w))


def unique_walkers(walks: Sequence[Walk]) -> int:
    return len(walker_ids(walks))


def walker_ids(walks: Sequence[Walk]) -> set[int]:
    """People who checked in on a held walk."""
    return {p.person_id for w in walks if w.held for p in w.checked_in}


def new_walkers(walks: Sequence[Walk], first_walk_of: Mapping[int, int]) -> int:
    """Walkers whose first walk ever (``first_walk_of``: person id → shift id) is one of these."""
    held = {w.shift_id for w in walks if w.held}
    return sum(1 for person in walker_ids(walks) if first_walk_of.get(person) in held)


def youth_buckets(walks: Sequence[Walk]) -> dict[str, int]:
    """How many held walks met how many young people (each bucket, zeros included)."""
    counts = Counter(w.youth_bucket for w in walks if w.held and w.youth_bucket is not None)
    return {bucket: counts.get(bucket, 0) for bucket in YOUTH_BUCKETS}


def youth_contacts(walks: Sequence[Walk]) -> int:
    """An estimate of young people met: ``YOUTH_ESTIMATE`` of each walk's bucket, added up."""
    return sum(YOUTH_ESTIMATE[b] * n for b, n in youth_buckets(walks).items())


def incidents(walks: Sequence[Walk]) -> int:
    """Held walks on which help was given or a service was contacted."""
    return sum(1 for w in walks if w.held and (w.help_given or w.services_contacted))


def emergency_contacts(walks: Sequence[Walk]) -> int:
    """Held walks on which 112 or the police were contacted."""
    return sum(1 for w in walks if w.held and w.services_contacted & EMERGENCY_SERVICES)


def services_contacted(walks: Sequence[Walk]) -> dict[str, int]:
    """For each service, on how many held walks it was contacted."""
    counts = Counter(s for w in walks if w.held for s in w.services_contacted)
    return dict(sorted(counts.items()))


def mood_distribution(walks: Sequence[Walk]) -> dict[str, int]:
    """Held walks per mood (each walk's most unruly reported mood), zeros included."""
    counts = Counter(w.mood for w in walks if w.held and w.mood is not None)
    return {mood: counts.get(mood, 0) for mood in MOODS}


@dataclass(frozen=True)
class PlaceCount:
    place: str
    category: str
    walks: int


def places_flagged(walks: Sequence[Walk]) -> list[PlaceCount]:
    """Each flagged (place, category) with the number of walks that flagged it, most first."""
    counts = Counter(issue for w in walks if w.held for issue in w.place_issues)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [PlaceCount(place, category, n) for (place, category), n in ordered]


def reports_filed(walks: Sequence[Walk]) -> int:
    """Submitted reports (a walk may have one per walker)."""
    return sum(len(w.reports) for w in walks)


def walks_reported(walks: Sequence[Walk]) -> int:
    """Held walks with at least one submitted report."""
    return sum(1 for w in walks if w.held and w.reports)


def report_rate(walks: Sequence[Walk]) -> float | None:
    """Held walks with a report ÷ held walks (None when none was held)."""
    held = shifts_held(walks)
    return walks_reported(walks) / held if held else None


# --- time bands --------------------------------------------------------------------------------


def band_windows(band: str, interval: Interval, zone: ZoneInfo) -> list[Interval]:
    """The UTC occurrences of a local time band around an interval."""
    first_hour, last_hour = BANDS[band]
    start_day = interval[0].astimezone(zone).date() - timedelta(days=1)
    end_day = interval[1].astimezone(zone).date()
    windows = []
    for offset in range((end_day - start_day).days + 1):
        day = start_day + timedelta(days=offset)
        end_date = day + timedelta(days=1) if last_hour <= first_hour else day
        windows.append(
            (
                datetime.combine(day, time(first_hour), tzinfo=zone).astimezone(UTC),
                datetime.combine(end_date, time(last_hour), tzinfo=zone).astimezone(UTC),
            )
        )
    return windows


def hours_in_band(band: str, interval: Interval, zone: ZoneInfo) -> float:
    """How many hours of ``interval`` fall inside the local time band."""
    return sum(_overlap_hours(interval, window) for window in band_windows(band, interval, zone))


def in_band(walk: Walk, band: str, zone: ZoneInfo) -> bool:
    """The walk's planned time overlaps the band."""
    return hours_in_band(band, (walk.shift.start_at, walk.shift.end_at), zone) > 0


def _overlap_hours(a: Interval, b: Interval) -> float:
    seconds = (min(a[1], b[1]) - max(a[0], b[0])).total_seconds()
    return max(seconds, 0.0) / 3600


def _length_hours(interval: Interval) -> float:
    return (interval[1] - interval[0]).total_seconds() / 3600


# --- putting it together -------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Every statistic for one set of walks."""

    planned: int
    held: int
    cancelled: int
    understaffed: int
    fill_rate: float | None
    walker_hours: float
    unique_walkers: int
    new_walkers: int
    youth_contacts: int
    youth_buckets: dict[str, int]
    incidents: int
    emergency_contacts: int
    services: dict[str, int]
    moods: dict[str, int]
    places: list[PlaceCount]
    reports: int
    walks_reported: int
    report_rate: float | None


def summarise(
    walks: Sequence[Walk], first_walk_of: Mapping[int, int], clip: Clip | None = None
) -> Stats:
    return Stats(
        planned=shifts_planned(walks),
        held=shifts_held(walks),
        cancelled=shifts_cancelled(walks),
        understaffed=shifts_understaffed(walks),
        fill_rate=fill_rate(walks),
        walker_hours=round(walker_hours(walks, clip), 2),
        unique_walkers=unique_walkers(walks),
        new_walkers=new_walkers(walks, first_walk_of),
        youth_contacts=youth_contacts(walks),
        youth_buckets=youth_buckets(walks),
        incidents=incidents(walks),
        emergency_contacts=emergency_contacts(walks),
        services=services_contacted(walks),
        moods=mood_distribution(walks),
        places=places_flagged(walks),
        reports=reports_filed(walks),
        walks_reported=walks_reported(walks),
        report_rate=report_rate(walks),
    )


@dataclass(frozen=True)
class WeekRow:
    """One ISO week: walks held and walker-hours."""

    year: int
    week: int
    monday: date
    held: int
    walker_hours: float


def weekly(walks: Sequence[Walk], first_day: date, last_day: date, zone: ZoneInfo) -> list[WeekRow]:
    """Walks held and walker-hours per ISO week (by local start), every week of the range."""
    monday = first_day - timedelta(days=first_day.weekday())
    rows = []
    while monday <= last_day:
        in_week = [
            w
            for w in walks
            if monday <= w.shift.start_at.astimezone(zone).date() < monday + timedelta(days=7)
        ]
        iso = monday.isocalendar()
        rows.append(
            WeekRow(
                iso.year, iso.week, monday, shifts_held(in_week), round(walker_hours(in_week), 2)
            )
        )
        monday += timedelta(days=7)
    return rows


@dataclass(frozen=True)
class StatsReport:
    """The statistics of a date range, overall and broken down."""

    first_day: date
    last_day: date
    organisation_id: int | None
    overall: Stats
    by_organisation: list[tuple[str, Stats]]
    by_area: list[tuple[str, Stats]]
    by_band: list[tuple[str, Stats]]
    by_night: list[tuple[str, Stats]]
    weeks: list[WeekRow] = field(default_factory=list)


def _grouped(
    walks: Sequence[Walk], key: Callable[[Walk], str], first: Mapping[int, int]
) -> list[tuple[str, Stats]]:
    groups: dict[str, list[Walk]] = {}
    for walk in walks:
        groups.setdefault(key(walk), []).append(walk)
    return [(name, summarise(groups[name], first)) for name in sorted(groups, key=str.casefold)]


def build_report(
    walks: Sequence[Walk],
    first_walk_of: Mapping[int, int],
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    organisation_id: int | None = None,
) -> StatsReport:
    """All the breakdowns of one set of walks (pure: no store access)."""
    by_band = []
    for band in BANDS:
        subset = [w for w in walks if in_band(w, band, zone)]

        def clip(interval: Interval, band: str = band) -> float:
            return hours_in_band(band, interval, zone)

        by_band.append((band, summarise(subset, first_walk_of, clip)))
    by_night = [
        ("risk", summarise([w for w in walks if w.shift.risk_night], first_walk_of)),
        ("ordinary", summarise([w for w in walks if not w.shift.risk_night], first_walk_of)),
    ]
    return StatsReport(
        first_day=first_day,
        last_day=last_day,
        organisation_id=organisation_id,
        overall=summarise(walks, first_walk_of),
        by_organisation=_grouped(walks, lambda w: w.view.organisation, first_walk_of),
        by_area=_grouped(walks, lambda w: w.view.area, first_walk_of),
        by_band=by_band,
        by_night=by_night,
        weeks=weekly(walks, first_day, last_day, zone),
    )


async def statistics(ctx: Context, actor: Actor, first_day: date, last_day: date) -> StatsReport:
    """The statistics a coordinator (everything) or a lead (their organisation) may see."""
    organisation_id = await organisation_scope(ctx, actor, "stats.view")
    return await statistics_for(ctx, first_day, last_day, organisation_id)


async def statistics_for(
    ctx: Context, first_day: date, last_day: date, organisation_id: int | None = None
) -> StatsReport:
    """The statistics of the range, for one organisation or all (no permission check)."""
    walks = await load_walks(ctx, first_day, last_day, organisation_id)
    first = await first_walks(ctx, sorted(walker_ids(walks)))
    return build_report(walks, first, first_day, last_day, ctx.zone, organisation_id)
