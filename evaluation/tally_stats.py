"""The statistics report counted from tallies (walk_tally.py): the same figures ``build_report``
(statistics.py) counts from ``Walk`` objects, in one pass per group over plain numbers.

Each walk becomes one row of counts (held, cancelled, youth bucket...); a group's figures are
the column sums of its walks' rows, its unique walkers the union of their walker lists. Time
bands: the walk's walkers' hours inside each band are measured against the band's windows in
UTC (``time_bands.band_windows``, so summer time is honoured), computed once for the range.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from evaluation.measures import EMERGENCY_SERVICES, YOUTH_ESTIMATE, PlaceCount
from evaluation.stats_report import Stats, StatsReport, WeekRow
from evaluation.time_bands import BANDS, band_windows, hours_in_band
from evaluation.walk_facts import MOODS, YOUTH_BUCKETS
from evaluation.walk_tally import Interval, Tally

BAND_NAMES = tuple(BANDS)
MARGIN_S = 12 * 3600.0  # walkers' times this far around the planned ones use the walk's windows
Window = tuple[float, float, int]  # start, end (seconds since 1970), band index
# a walk's row of counts: planned, held, cancelled, understaffed, confirmed and seats (shifts
# not cancelled), new walkers, incidents, emergency contacts, walks reported, reports, then
# held walks per youth bucket and per mood
ROW = 11 + len(YOUTH_BUCKETS) + len(MOODS)


class Windows:
    """Every band's UTC windows around the walks, and each walk's share of them."""

    def __init__(self, tallies: Sequence[Tally], zone: ZoneInfo) -> None:
        self.zone = zone
        found: list[Window] = []
        if tallies:
            first = _utc(min(t.start_s for t in tallies) - MARGIN_S)
            last = _utc(max(t.end_s for t in tallies) + MARGIN_S)
            for index, band in enumerate(BAND_NAMES):
                for start, end in band_windows(band, (first, last), zone):
                    found.append((start.timestamp(), end.timestamp(), index))
        found.sort()
        self.windows = found
        self.starts = [w[0] for w in found]
        self._cache: dict[tuple[int, int], list[Window]] = {}

    def around(self, tally: Tally) -> list[Window]:
        """The windows that walkers within ``MARGIN_S`` of the planned time can touch."""
        low = bisect_left(self.starts, tally.start_s - MARGIN_S - 5 * 3600)
        high = bisect_left(self.starts, tally.end_s + MARGIN_S)
        key = (low, high)
        if key not in self._cache:
            self._cache[key] = self.windows[low:high]
        return self._cache[key]

    def band_seconds(self, tally: Tally, held: bool) -> tuple[list[float], list[float]]:
        """Per band: seconds of the planned time inside it, and walker-seconds (held walks)."""
        windows = self.around(tally)
        planned = _overlaps(tally.planned, windows)
        if not held:
            return planned, [0.0] * len(BAND_NAMES)
        walked = [0.0] * len(BAND_NAMES)
        if tally.intervals:
            low = min(came for came, _ in tally.intervals)
            high = max(left for _, left in tally.intervals)
            if low >= tally.start_s - MARGIN_S and high <= tally.end_s + MARGIN_S:
                near = [w for w in windows if w[0] < high and w[1] > low]
                for came, left in tally.intervals:
                    for start, end, band in near:
                        seconds = (left if left < end else end) - (came if came > start else start)
                        if seconds > 0:
                            walked[band] += seconds
            else:  # someone far from the plan: each measured on its own
                for came, left in tally.intervals:
                    for band, name in enumerate(BAND_NAMES):
                        walked[band] += 3600 * hours_in_band(
                            name, (_utc(came), _utc(left)), self.zone
                        )
        others = tally.planned_walkers + _extra(tally)
        return planned, [w + others * p for w, p in zip(walked, planned, strict=True)]


def _overlaps(interval: Interval, windows: Iterable[Window]) -> list[float]:
    found = [0.0] * len(BAND_NAMES)
    for start, end, band in windows:
        seconds = min(interval[1], end) - max(interval[0], start)
        if seconds > 0:
            found[band] += seconds
    return found


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _extra(tally: Tally) -> int:
    """Walkers the reports count beyond those who checked in (they walked the planned time)."""
    return tally.walkers_present - len(tally.walkers)


def walked_seconds(tally: Tally) -> float:
    """Walker-seconds of a held walk."""
    known = sum(left - came for came, left in tally.intervals)
    return known + (tally.planned_walkers + _extra(tally)) * (tally.end_s - tally.start_s)


LANE = 40  # bits per count in a packed row: column sums are sums of plain integers


def pack(row: Sequence[int]) -> int:
    return sum(value << (LANE * n) for n, value in enumerate(row))


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
    ] + [0] * (len(YOUTH_BUCKETS) + len(MOODS))
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
        moods=dict(zip(MOODS, sums[11 + len(YOUTH_BUCKETS) :], strict=True)),
        places=[PlaceCount(place, category, n) for (place, category), n in ordered],
        reports=sums[10],
        walks_reported=sums[9],
        report_rate=sums[9] / sums[1] if sums[1] else None,
    )


def tally_report(
    tallies: Sequence[Tally],
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    organisation_id: int | None = None,
) -> StatsReport:
    """All the breakdowns of the range's walks (pure: no store access)."""
    held = [t.held for t in tallies]
    rows = [pack(counts_row(t, h)) for t, h in zip(tallies, held, strict=True)]
    seconds = [walked_seconds(t) if h else 0.0 for t, h in zip(tallies, held, strict=True)]
    windows = Windows(tallies, zone)
    bands = [windows.band_seconds(t, h) for t, h in zip(tallies, held, strict=True)]

    def grouped(key: Callable[[Tally], str]) -> list[tuple[str, Stats]]:
        members: dict[str, list[int]] = {}
        for index, tally in enumerate(tallies):
            members.setdefault(key(tally), []).append(index)
        return [(name, _of(members[name])) for name in sorted(members, key=str.casefold)]

    def _of(indexes: Sequence[int], band: int | None = None) -> Stats:
        spent = seconds if band is None else [b[1][band] for b in bands]
        return summarise(
            [tallies[i] for i in indexes if held[i]],
            sum(map(rows.__getitem__, indexes)),
            sum(map(spent.__getitem__, indexes)),
        )

    everything = range(len(tallies))
    return StatsReport(
        first_day=first_day,
        last_day=last_day,
        organisation_id=organisation_id,
        overall=_of(everything),
        by_organisation=grouped(lambda t: t.organisation),
        by_area=grouped(lambda t: t.area),
        by_band=[
            (name, _of([i for i in everything if bands[i][0][b] > 0], b))
            for b, name in enumerate(BAND_NAMES)
        ],
        by_night=[
            ("risk", _of([i for i in everything if tallies[i].risk_night])),
            ("ordinary", _of([i for i in everything if not tallies[i].risk_night])),
        ],
        weeks=weekly(tallies, seconds, first_day, last_day, zone),
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
