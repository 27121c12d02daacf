"""The facts about past and planned walks that statistics, payments and exports count.

Definitions used everywhere (docs/coordinator.md repeats them for the coordinator):

- **Held**: a shift that was not cancelled, whose planned end has passed, on which at least one
  confirmed walker checked in or for which at least one report was submitted.
- **Walkers present**: the larger of the number of confirmed walkers who checked in and the
  largest "adult walkers present" given in the shift's submitted reports (people sometimes walk
  without checking in with the bot).
- **Reports**: only submitted reports count (drafts do not). A walk may have several reports,
  one per walker; a walk's report facts are merged so that each walk counts once: the largest
  youth bucket, the most unruly mood, and the union of help given, services contacted and
  place issues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Alarm, Person, Report, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import InvalidInput
from scheduling.common.localtime import local_day_bounds
from scheduling.walks.shifts import ShiftView, shift_views

REPORT_SUBMITTED = "submitted"
YOUTH_BUCKETS = ("0", "1-10", "11-30", "31-50", "50+")
MOODS = ("calm", "mixed", "unruly")


@dataclass(frozen=True)
class Presence:
    """One confirmed walker of a shift and when they checked in and out (if they did)."""

    person_id: int
    name: str
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    no_show: bool = False  # marked absent after the walk ("Vilka var med?")


@dataclass(frozen=True)
class Walk:
    """A shift with everything statistics need about it, as it stood at ``now``."""

    view: ShiftView
    walkers: tuple[Presence, ...]
    reports: tuple[Report, ...]
    now: datetime
    alarms: tuple[str, ...] = ()  # the status of each alarm raised on the shift

    @property
    def shift(self) -> Shift:
        return self.view.shift

    @property
    def shift_id(self) -> int:
        return self.view.shift.id or 0

    @property
    def cancelled(self) -> bool:
        return self.shift.status == ShiftStatus.CANCELLED

    @property
    def ended(self) -> bool:
        return self.shift.end_at <= self.now

    @property
    def checked_in(self) -> tuple[Presence, ...]:
        return tuple(w for w in self.walkers if w.checked_in_at is not None)

    @property
    def held(self) -> bool:
        """Not cancelled, over, and someone checked in or a report was filed."""
        return not self.cancelled and self.ended and bool(self.checked_in or self.reports)

    @property
    def understaffed(self) -> bool:
        return not self.cancelled and self.view.staffing == "understaffed"

    @property
    def walkers_present(self) -> int:
        reported = [r.walkers_present for r in self.reports if r.walkers_present is not None]
        return max([len(self.checked_in), *reported])

    @property
    def planned_duration(self) -> timedelta:
        return self.shift.end_at - self.shift.start_at

    @property
    def youth_bucket(self) -> str | None:
        """The largest youth bucket reported for this walk."""
        found = [r.youth_met for r in self.reports if r.youth_met in YOUTH_BUCKETS]
        return max(found, key=YOUTH_BUCKETS.index) if found else None

    @property
    def mood(self) -> str | None:
        """The most unruly mood reported for this walk."""
        found = [r.mood for r in self.reports if r.mood in MOODS]
        return max(found, key=MOODS.index) if found else None

    @property
    def help_given(self) -> frozenset[str]:
        return frozenset(item for r in self.reports for item in r.help_given)

    @property
    def services_contacted(self) -> frozenset[str]:
        return frozenset(item for r in self.reports for item in r.services_contacted)

    @property
    def place_issues(self) -> frozenset[tuple[str, str]]:
        """(place, category) pairs flagged in this walk's reports."""
        return frozenset(
            (str(issue.get("spot") or issue.get("place", "")), str(issue.get("category", "")))
            for r in self.reports
            for issue in r.place_issues
        )


FIRST_DAY = date(2000, 1, 1)  # the dates statistics and exports accept
LAST_DAY = date(2999, 12, 31)


def day_range(ctx: Context, first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """UTC bounds of the local days ``first_day`` to ``last_day``, both included."""
    if last_day < first_day:
        raise InvalidInput(
            "until_before_start", until=last_day.isoformat(), start=first_day.isoformat()
        )
    for day in (first_day, last_day):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidInput(
                "date_out_of_range",
                text=day.isoformat(),
                first=FIRST_DAY.isoformat(),
                last=LAST_DAY.isoformat(),
            )
    return local_day_bounds(first_day, ctx.zone)[0], local_day_bounds(last_day, ctx.zone)[1]


def bounded_range(ctx: Context, first_day: date, last_day: date) -> None:
    """Refuse a reversed range, dates out of bounds, or more days than
    ``[evaluation] max_range_days``: what statistics and exports may be asked for."""
    day_range(ctx, first_day, last_day)
    days = (last_day - first_day).days + 1
    longest = ctx.settings.evaluation.max_range_days
    if days > longest:
        raise InvalidInput("range_too_long", days=days, max_days=longest)


async def load_walks(
    ctx: Context, first_day: date, last_day: date, organisation_id: int | None = None
) -> list[Walk]:
    """Every shift starting on the local days given (both included), with its walkers and
    submitted reports; only one organisation's when ``organisation_id`` is given."""
    start, before = day_range(ctx, first_day, last_day)
    now = ctx.now()
    async with ctx.store.transaction() as session:
        views = await shift_views(
            session, ctx, start_from=start, start_before=before, organisation_id=organisation_id
        )
        ids = [v.shift.id or 0 for v in views]
        walkers = await _presences(session, ids)
        reports = await _submitted_reports(session, ids)
        alarms = await _alarms(session, ids)
    return [
        Walk(
            view=view,
            walkers=tuple(walkers.get(view.shift.id or 0, ())),
            reports=tuple(reports.get(view.shift.id or 0, ())),
            now=now,
            alarms=tuple(alarms.get(view.shift.id or 0, ())),
        )
        for view in views
    ]


async def _alarms(session: AsyncSession, shift_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if shift_ids:
        rows = await session.exec(
            select(Alarm.shift_id, Alarm.status).where(col(Alarm.shift_id).in_(list(shift_ids)))
        )
        for shift_id, status in rows.all():
            found.setdefault(shift_id, []).append(status)
    return found


async def _presences(session: AsyncSession, shift_ids: Sequence[int]) -> dict[int, list[Presence]]:
    found: dict[int, list[Presence]] = {}
    if not shift_ids:
        return found
    rows = await session.exec(
        select(Signup, Person.name)
        .join(Person, col(Person.id) == col(Signup.person_id))
        .where(
            col(Signup.shift_id).in_(list(shift_ids)),
            col(Signup.status) == SignupStatus.CONFIRMED,
        )
        .order_by(col(Signup.queued_at), col(Signup.id))
    )
    for signup, name in rows.all():
        found.setdefault(signup.shift_id, []).append(
            Presence(signup.person_id, name, signup.checked_in_at, signup.checked_out_at,
                     signup.no_show)
        )
    return found


async def _submitted_reports(
    session: AsyncSession, shift_ids: Sequence[int]
) -> dict[int, list[Report]]:
    found: dict[int, list[Report]] = {}
    if not shift_ids:
        return found
    rows = await session.exec(
        select(Report)
        .where(col(Report.shift_id).in_(list(shift_ids)), col(Report.status) == REPORT_SUBMITTED)
        .order_by(col(Report.id))
    )
    for report in rows.all():
        found.setdefault(report.shift_id, []).append(report)
    return found


async def first_walks(ctx: Context, person_ids: Sequence[int]) -> dict[int, int]:
    """For each person, the shift id of their first walk ever (the earliest shift, not
    cancelled, on which they checked in)."""
    if not person_ids:
        return {}
    async with ctx.store.transaction() as session:
        rows = await session.exec(
            select(Signup.person_id, Shift.id)
            .join(Shift, col(Shift.id) == col(Signup.shift_id))
            .where(
                col(Signup.person_id).in_(list(person_ids)),
                col(Signup.checked_in_at).is_not(None),
                col(Signup.status) == SignupStatus.CONFIRMED,
                col(Shift.status) != ShiftStatus.CANCELLED,
            )
            .order_by(col(Shift.start_at), col(Shift.id))
        )
        first: dict[int, int] = {}
        for person_id, shift_id in rows.all():
            first.setdefault(person_id, shift_id or 0)
        return first
