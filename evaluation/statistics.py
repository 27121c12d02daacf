"""Statistics of the walks for a local date range: overall, per organisation, per area, per
Purple Flag time band, and for risk nights versus ordinary nights.

Each statistic is one function over a sequence of ``Walk`` in ``measures.py``
(evaluation/walk_facts.py defines "held", "walkers present" and how several reports of one
walk are merged); this module puts them together. Definitions:

- planned: every shift starting in the range, whatever became of it; cancelled: those
  cancelled; held: see walk_facts.py; understaffed: not cancelled and, with the sign-ups as they
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
- alarms: alarms walkers raised on the shifts (``scheduling/walks/alarms.py``), false alarms
  (called off by the walker) counted apart.
- no-show rate: confirmed walkers marked absent after the walk ("Vilka var med?") ÷ confirmed
  sign-ups, over the walks that are over and were not cancelled.
- report rate: held walks with at least one submitted report ÷ held walks.
- time bands (local time, ``time_bands.py``): 17–20, 20–23, 23–02, 02–05. A walk counts in
  every band its planned time overlaps, so band figures do not add up to the total;
  walker-hours in a band are the part of each walker's time inside the band.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from evaluation.measures import (
    YOUTH_ESTIMATE,
    Clip,
    Interval,
    PlaceCount,
    alarms_raised,
    emergency_contacts,
    expected_walkers,
    false_alarms,
    fill_rate,
    incidents,
    mood_distribution,
    new_walkers,
    no_shows,
    places_flagged,
    report_rate,
    reports_filed,
    services_contacted,
    shifts_cancelled,
    shifts_held,
    shifts_planned,
    shifts_understaffed,
    unique_walkers,
    walker_hours,
    walker_ids,
    walks_reported,
    youth_buckets,
    youth_contacts,
)
from evaluation.off_loop import off_loop
from evaluation.stats_report import Stats, StatsReport, WeekRow
from evaluation.tally_sums import tally_statistics
from evaluation.time_bands import BANDS, hours_in_band, in_band
from evaluation.walk_facts import Walk, bounded_range
from scheduling.common.context import Context
from scheduling.people.access import Actor
from scheduling.people.scope import organisation_scope

NIGHT_KINDS = ("risk", "ordinary")

__all__ = [
    "BANDS",
    "NIGHT_KINDS",
    "YOUTH_ESTIMATE",
    "Clip",
    "Interval",
    "PlaceCount",
    "Stats",
    "StatsReport",
    "WeekRow",
    "build_report",
    "emergency_contacts",
    "fill_rate",
    "hours_in_band",
    "in_band",
    "incidents",
    "mood_distribution",
    "new_walkers",
    "places_flagged",
    "report_rate",
    "reports_filed",
    "services_contacted",
    "shifts_cancelled",
    "shifts_held",
    "shifts_planned",
    "shifts_understaffed",
    "statistics",
    "statistics_for",
    "summarise",
    "unique_walkers",
    "walker_hours",
    "walker_ids",
    "walks_reported",
    "weekly",
    "youth_buckets",
    "youth_contacts",
]


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
        alarms=alarms_raised(walks),
        false_alarms=false_alarms(walks),
        expected_walkers=expected_walkers(walks),
        no_shows=no_shows(walks),
    )


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
    """The statistics a coordinator (everything) or a lead (their organisation) may see, for
    at most ``[evaluation] max_range_days``; computed in a worker process (``off_loop.py``)."""
    bounded_range(ctx, first_day, last_day)
    organisation_id = await organisation_scope(ctx, actor, "stats.view")
    return await off_loop(ctx, statistics_for, first_day, last_day, organisation_id)


async def statistics_for(
    ctx: Context, first_day: date, last_day: date, organisation_id: int | None = None
) -> StatsReport:
    """The statistics of the range, for one organisation or all (no permission check): the
    same figures ``build_report`` gives for the range's walks, added up by the database from
    the per-walk tallies kept up to date (tally_sums.py, tally_refresh.py)."""
    return await tally_statistics(ctx, first_day, last_day, organisation_id)
