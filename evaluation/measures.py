"""One function per statistic over a sequence of walks (the definitions: ``statistics.py``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from evaluation.walk_facts import MOODS, YOUTH_BUCKETS, Walk

YOUTH_ESTIMATE: dict[str, int] = {"0": 0, "1-10": 5, "11-30": 20, "31-50": 40, "50+": 60}
EMERGENCY_SERVICES = frozenset({"112", "police"})

Interval = tuple[datetime, datetime]
Clip = Callable[[Interval], float]


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


def alarms_raised(walks: Sequence[Walk]) -> int:
    """Alarms raised on the walks, false alarms (called off by the walker) not counted."""
    return sum(1 for w in walks for status in w.alarms if status != "cancelled")


def false_alarms(walks: Sequence[Walk]) -> int:
    return sum(1 for w in walks for status in w.alarms if status == "cancelled")


def expected_walkers(walks: Sequence[Walk]) -> int:
    """Confirmed sign-ups of the walks that are over and were not cancelled."""
    return sum(len(w.walkers) for w in walks if w.ended and not w.cancelled)


def no_shows(walks: Sequence[Walk]) -> int:
    """Of those, the walkers marked absent after the walk."""
    return sum(p.no_show for w in walks if w.ended and not w.cancelled for p in w.walkers)


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


def _length_hours(interval: Interval) -> float:
    return (interval[1] - interval[0]).total_seconds() / 3600
