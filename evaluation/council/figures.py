"""Everything the council's report shows, for a period and the period of equal length just
before it: the statistics (``tally_stats.tally_report`` over ``walk_tally.load_tallies``, the
same figures as ``statistics.statistics_for``), walks per week, night coverage and follow-ups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from evaluation.council.follow_ups import follow_ups_asked
from evaluation.council.nights import Coverage, risk_nights, weekend_nights
from evaluation.council.weeks import WeekCounts, week_counts
from evaluation.stats_report import StatsReport
from evaluation.tally_stats import tally_report
from evaluation.walk_facts import FIRST_DAY
from evaluation.walk_tally import load_tallies
from scheduling.common.context import Context


@dataclass(frozen=True)
class Period:
    """One period's figures."""

    first_day: date
    last_day: date
    stats: StatsReport
    weeks: list[WeekCounts]
    weekend: Coverage
    risk: Coverage
    follow_ups: int


@dataclass(frozen=True)
class CouncilFigures:
    """The period and the one before it; ``organisation`` names a lead's own organisation."""

    current: Period
    previous: Period
    organisation_id: int | None
    made_on: date


def previous_period(first_day: date, last_day: date) -> tuple[date, date]:
    """The period of equal length that ends the day before ``first_day``."""
    length = last_day - first_day + timedelta(days=1)
    first = max(first_day - length, FIRST_DAY)
    return first, max(first_day - timedelta(days=1), first)


async def period(ctx: Context, first: date, last: date, organisation_id: int | None) -> Period:
    tallies = await load_tallies(ctx, first, last, organisation_id)
    stats = tally_report(tallies, first, last, ctx.zone, organisation_id)
    today = ctx.now().astimezone(ctx.zone).date()
    return Period(
        first_day=first,
        last_day=last,
        stats=stats,
        weeks=week_counts(tallies, stats.weeks, ctx.zone),
        weekend=weekend_nights(tallies, first, last, today, ctx.zone),
        risk=risk_nights(tallies, today, ctx.zone),
        follow_ups=await follow_ups_asked(ctx, first, last, organisation_id),
    )


async def council_figures(
    ctx: Context, first_day: date, last_day: date, organisation_id: int | None = None
) -> CouncilFigures:
    """The figures of the period and of the one before it (no permission check)."""
    before = previous_period(first_day, last_day)
    return CouncilFigures(
        current=await period(ctx, first_day, last_day, organisation_id),
        previous=await period(ctx, *before, organisation_id),
        organisation_id=organisation_id,
        made_on=ctx.now().astimezone(ctx.zone).date(),
    )
