"""What statistics come out as: the figures of a set of walks, per week, and the whole report
(the definitions: statistics.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from evaluation.measures import PlaceCount


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
    alarms: int = 0  # raised by walkers on a shift (false alarms not counted)
    false_alarms: int = 0
    expected_walkers: int = 0  # confirmed sign-ups of walks over and not cancelled
    no_shows: int = 0  # of those, marked absent in "Vilka var med?"

    @property
    def no_show_rate(self) -> float | None:
        """No-shows ÷ confirmed sign-ups of the walks over (None without any)."""
        return self.no_shows / self.expected_walkers if self.expected_walkers else None


@dataclass(frozen=True)
class WeekRow:
    """One ISO week: walks held and walker-hours."""

    year: int
    week: int
    monday: date
    held: int
    walker_hours: float


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
