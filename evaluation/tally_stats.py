"""The statistics report counted from tallies (walk_tally.py): the same figures ``build_report``
(statistics.py) counts from ``Walk`` objects, in one pass per group over plain numbers.

Each walk becomes one row of counts (held, cancelled, youth bucket...); a group's figures are
the column sums of its walks' rows, its unique walkers the union of their walker lists. Time
bands: the walk's walkers' hours inside each band are measured against the band's windows in
UTC (``time_bands.band_windows``, so summer time is honoured), computed once for the range.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from operator import lshift
from zoneinfo import ZoneInfo

from evaluation.band_seconds import BAND_NAMES, Windows
from evaluation.measures import EMERGENCY_SERVICES, YOUTH_ESTIMATE, PlaceCount
from evaluation.stats_report import Stats, StatsReport, WeekRow
from evaluation.walk_facts import MOODS, YOUTH_BUCKETS
from evaluation.walk_tally import Tally

# a walk's row of counts: planned, held, cancelled, understaffed, confirmed and seats (shifts
# not cancelled), new walkers, incidents, emergency contacts, walks reported, reports, then
# held walks per youth bucket and per mood, then alarms and false alarms (on any walk), then
# confirmed sign-ups and no-shows (walks over and not cancelled)
MOODS_AT = 11 + len(YOUTH_BUCKETS)
ALARMS_AT = MOODS_AT + len(MOODS)
NO_SHOWS_AT = ALARMS_AT + 2
ROW = NO_SHOWS_AT + 2


def walked_seconds(tally: Tally) -> float:
    """Walker-seconds of a held walk."""
    planned = tally.end_s - tally.start_s
    return tally.known_s + (tally.planned_walkers + tally.extra_walkers) * planned


LANE = 40  # bits per count in a packed row: column sums are sums of plain integers


SHIFTS = [LANE * n for n in range(ROW)]


def pack(row: Sequence[int]) -> int:
    return sum(map(lshift, row, SHIFTS))


def unpack(packed: int) -> list[int]:
    mask = (1 << LANE) - 1
    return [(packed >> (LANE * n)) & mask for n in range(ROW)]


def counts_row(tally: Tally, held: bool) -> list[int]:
    active = not tally.cancelled
    row = [
        1,
        held,
        tally.cancelled,
        tally.understaffed,
        tally.confirmed if active else 0,
        tally.max_walkers if active else 0,
        tally.new_walkers if held else 0,
        held and (tally.helped or bool(tally.services)),
        held and bool(tally.services & EMERGENCY_SERVICES),
        held and tally.reports > 0,
        tally.reports,
    ] + [0] * (len(YOUTH_BUCKETS) + len(MOODS)) + [tally.alarms, tally.false_alarms]
    over = active and tally.ended
    row += [tally.confirmed if over else 0, tally.no_shows if over else 0]
    if held and tally.youth is not None:
        row[11 + tally.youth] = 1
    if held and tally.mood is not None:
        row[11 + len(YOUTH_BUCKETS) + tally.mood] = 1
    return [int(x) for x in row]


def summarise(held: Sequence[Tally], packed: int, seconds: float) -> Stats:
    """The figures of a group: its held walks, the sum of its walks' packed rows of counts
    and its walker-seconds."""
    sums = unpack(packed)
    youth = dict(zip(YOUTH_BUCKETS, sums[11 : 11 + len(YOUTH_BUCKETS)], strict=True))
    places = Counter(place for t in held for place in t.places)
    ordered = sorted(places.items(), key=lambda item: (-item[1], item[0]))
    return Stats(
        planned=sums[0],
        held=sums[1],
        cancelled=sums[2],
        understaffed=sums[3],
        fill_rate=sums[4] / sums[5] if sums[5] else None,
        walker_hours=round(seconds / 3600, 2),
        unique_walkers=len(set().union(*(t.walkers for t in held))),
        new_walkers=sums[6],
        youth_contacts=sum(YOUTH_ESTIMATE[b] * n for b, n in youth.items()),
        youth_buckets=youth,
        incidents=sums[7],
        emergency_contacts=sums[8],
        services=dict(sorted(Counter(s for t in held for s in t.services).items())),
        moods=dict(zip(MOODS, sums[MOODS_AT:ALARMS_AT], strict=True)),
        places=[PlaceCount(place, category, n) for (place, category), n in ordered],
        reports=sums[10],
        walks_reported=sums[9],
        report_rate=sums[9] / sums[1] if sums[1] else None,
        alarms=sums[ALARMS_AT],
        false_alarms=sums[ALARMS_AT + 1],
        expected_walkers=sums[NO_SHOWS_AT],
        no_shows=sums[NO_SHOWS_AT + 1],
    )


class _Walks:
    """The range's walks counted once: held or not, rows of counts, walker-seconds overall
    and per band; ``of`` sums any group of them."""

    def __init__(self, tallies: Sequence[Tally], zone: ZoneInfo) -> None:
        self.tallies = tallies
        self.held = [t.held for t in tallies]
        pairs = list(zip(tallies, self.held, strict=True))
        self.rows = [pack(counts_row(t, h)) for t, h in pairs]
        self.seconds = [walked_seconds(t) if h else 0.0 for t, h in pairs]
        windows = Windows(tallies, zone)
        self.bands = [windows.band_seconds(t, h) for t, h in pairs]
        self.everything = range(len(tallies))

    def of(self, indexes: Sequence[int], band: int | None = None) -> Stats:
        spent = self.seconds if band is None else [b[1][band] for b in self.bands]
        return summarise(
            [self.tallies[i] for i in indexes if self.held[i]],
            sum(map(self.rows.__getitem__, indexes)),
            sum(map(spent.__getitem__, indexes)),
        )

    def grouped(self, key: Callable[[Tally], str]) -> list[tuple[str, Stats]]:
        members: dict[str, list[int]] = {}
        for index, tally in enumerate(self.tallies):
            members.setdefault(key(tally), []).append(index)
        return [(name, self.of(members[name])) for name in sorted(members, key=str.casefold)]

    def in_band(self, band: int) -> Stats:
        return self.of([i for i in self.everything if self.bands[i][0][band] > 0], band)

    def nights(self, risk: bool) -> Stats:
        return self.of([i for i in self.everything if self.tallies[i].risk_night == risk])


def tally_report(
    tallies: Sequence[Tally],
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    organisation_id: int | None = None,
) -> StatsReport:
    """All the breakdowns of the range's walks (pure: no store access)."""
    walks = _Walks(tallies, zone)
    return StatsReport(
        first_day=first_day,
        last_day=last_day,
        organisation_id=organisation_id,
        overall=walks.of(walks.everything),
        by_organisation=walks.grouped(lambda t: t.organisation),
        by_area=walks.grouped(lambda t: t.area),
        by_band=[(name, walks.in_band(b)) for b, name in enumerate(BAND_NAMES)],
        by_night=[("risk", walks.nights(True)), ("ordinary", walks.nights(False))],
        weeks=weekly(tallies, walks.seconds, first_day, last_day, zone),
    )


def weekly(
    tallies: Sequence[Tally],
    seconds: Sequence[float],
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
) -> list[WeekRow]:
    """Walks held and walker-hours per ISO week (by local start), every week of the range."""
    monday = first_day - timedelta(days=first_day.weekday())
    mondays = []
    while monday <= last_day:
        mondays.append(monday)
        monday += timedelta(days=7)
    bounds = [datetime.combine(m, datetime.min.time(), zone).timestamp() for m in mondays]
    held = [0] * len(mondays)
    spent = [0.0] * len(mondays)
    for tally, walked in zip(tallies, seconds, strict=True):
        week = bisect_right(bounds, tally.start_s) - 1
        if 0 <= week < len(mondays) and tally.held:  # walked is 0 for any other
            held[week] += 1
            spent[week] += walked
    return [
        WeekRow(m.isocalendar().year, m.isocalendar().week, m, held[n], round(spent[n] / 3600, 2))
        for n, m in enumerate(mondays)
    ]
