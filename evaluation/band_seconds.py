"""How many of a walk's walker-seconds fall in each Purple Flag time band (time_bands.py),
for thousands of walks at once: the bands' windows in UTC are computed once for the range.

On an ordinary night the four bands follow each other from 17:00 to 05:00 local time, three
hours each, so an interval inside that night is split by arithmetic. A night on which the
clocks change, and anyone far from the night's bands, is measured window by window.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from evaluation.time_bands import BANDS, band_windows
from evaluation.walk_tally import Interval, Tally

BAND_NAMES = tuple(BANDS)
BAND_S = 3 * 3600.0
NIGHT_S = len(BAND_NAMES) * BAND_S  # 17:00 to 05:00
MARGIN_S = 12 * 3600.0  # windows kept around each walk's planned time
Window = tuple[float, float, int]  # start, end (seconds since 1970), band index


class Windows:
    """Every band's UTC windows around the walks, and each walk's share of them."""

    def __init__(self, tallies: Sequence[Tally], zone: ZoneInfo) -> None:
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
        known = set(found)
        self.nights = [  # the 17:00 of each night whose four bands are three hours each
            start
            for start, _, band in found
            if band == 0
            and all((start + n * BAND_S, start + (n + 1) * BAND_S, n) in known for n in range(4))
        ]

    def around(self, interval: Interval) -> list[Window]:
        """The windows an interval within ``MARGIN_S`` of this one can touch."""
        low = bisect_left(self.starts, interval[0] - MARGIN_S - 5 * 3600)
        return self.windows[low : bisect_left(self.starts, interval[1] + MARGIN_S)]

    def night(self, interval: Interval) -> float | None:
        """The 17:00 of the ordinary night holding the interval, if there is one."""
        index = bisect_right(self.nights, interval[0]) - 1
        if index < 0:
            return None
        start = self.nights[index]
        return start if interval[1] <= start + NIGHT_S else None

    def band_seconds(self, tally: Tally, held: bool) -> tuple[list[float], list[float]]:
        """Per band: seconds of the planned time inside it, and walker-seconds (held walks)."""
        planned = [0.0] * len(BAND_NAMES)
        night = self.night(tally.planned)
        if night is None:
            windows = self.around(tally.planned)
            _measure(tally.planned, windows, planned)
        else:
            _split(tally.start_s, tally.end_s, night, planned)
        walked = [0.0] * len(BAND_NAMES)
        if not held:
            return planned, walked
        for came, left in tally.intervals:
            if night is not None and night <= came and left <= night + NIGHT_S:
                _split(came, left, night, walked)
            else:
                _measure((came, left), self.around((came, left)), walked)
        others = tally.planned_walkers + tally.extra_walkers
        if others:
            for band, seconds in enumerate(planned):
                walked[band] += others * seconds
        return planned, walked


def _split(came: float, left: float, night: float, into: list[float]) -> None:
    """Add the interval's seconds per band to ``into``; the interval lies inside the night."""
    first = min(int((came - night) // BAND_S), 3)
    last = min(int((left - night) // BAND_S), 3)
    if first == last:
        into[first] += left - came
        return
    into[first] += night + (first + 1) * BAND_S - came
    for band in range(first + 1, last):
        into[band] += BAND_S
    into[last] += left - (night + last * BAND_S)


def _measure(interval: Interval, windows: Iterable[Window], into: list[float]) -> None:
    """Add the interval's seconds inside each window to its band in ``into``."""
    for start, end, band in windows:
        seconds = min(interval[1], end) - max(interval[0], start)
        if seconds > 0:
            into[band] += seconds


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
