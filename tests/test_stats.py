"""Statistics and the payment basis on the hand-built November (tests/coord_data.py).

Every expected figure below is worked out by hand from the table in coord_data's docstring.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from evaluation import payments
from evaluation import statistics as stats
from evaluation.walk_facts import Walk, first_walks, load_walks
from models.tables import Role
from scheduling.common.context import Context
from scheduling.common.errors import PermissionDenied
from scheduling.people.access import Actor
from tests.coord_data import DataSet, build

NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
async def data(ctx: Context) -> DataSet:
    return await build(ctx)


@pytest.fixture
async def walks(ctx: Context, data: DataSet) -> list[Walk]:
    return await load_walks(ctx, NOV_1, NOV_30)


def only(walks: list[Walk], data: DataSet, *names: str) -> list[Walk]:
    ids = {data.shifts[n] for n in names}
    return [w for w in walks if w.shift_id in ids]


async def test_range_holds_the_shifts_starting_on_those_local_days(
    walks: list[Walk], data: DataSet
) -> None:
    """The range is local days, both included: S1–S6, not October's S7."""
    assert [w.shift_id for w in walks] == [data.shifts[f"S{n}"] for n in range(1, 7)]


async def test_planned_counts_every_shift(walks: list[Walk]) -> None:
    """Planned: all six shifts of November, the cancelled one included."""
    assert stats.shifts_planned(walks) == 6


async def test_cancelled_counts_cancelled_shifts(walks: list[Walk]) -> None:
    """Cancelled: S3 only."""
    assert stats.shifts_cancelled(walks) == 1


async def test_held_needs_a_check_in_or_a_report_after_the_end(
    walks: list[Walk], data: DataSet
) -> None:
    """Held: S1 and S2 (check-ins) and S4 (a report only); not S5 (nobody), not S6 (future)."""
    held = {w.shift_id for w in walks if w.held}
    assert held == {data.shifts[n] for n in ("S1", "S2", "S4")}
    assert stats.shifts_held(walks) == 3


async def test_understaffed_uses_confirmed_and_trained_walkers(walks: list[Walk]) -> None:
    """Understaffed: S2 (2 of min 3), S4, S5, S6 (1 of min 2); S1 is ok; S3 is cancelled."""
    assert stats.shifts_understaffed(walks) == 4


async def test_fill_rate_is_confirmed_over_maximum_seats(walks: list[Walk]) -> None:
    """Fill rate: (3+2+1+1+1) confirmed ÷ (4+5+4+3+4) seats = 8/20, without cancelled S3."""
    assert stats.fill_rate(walks) == pytest.approx(0.4)
    assert stats.fill_rate([]) is None


async def test_walker_hours_use_check_out_else_the_planned_time(
    walks: list[Walk], data: DataSet
) -> None:
    """S1: 3.5 + 4 (no check-out) + 4 (reported third walker); S2: 4 + 3; S4: 2 × 4 reported."""
    assert stats.walker_hours(only(walks, data, "S1")) == pytest.approx(11.5)
    assert stats.walker_hours(only(walks, data, "S2")) == pytest.approx(7)
    assert stats.walker_hours(only(walks, data, "S4")) == pytest.approx(8)
    assert stats.walker_hours(walks) == pytest.approx(26.5)


async def test_walkers_present_is_the_larger_of_check_ins_and_reports(
    walks: list[Walk], data: DataSet
) -> None:
    """S1: 2 checked in, reports say 3 and 2 → 3; S4: none checked in, report says 2."""
    present = {w.shift_id: w.walkers_present for w in walks}
    assert present[data.shifts["S1"]] == 3
    assert present[data.shifts["S4"]] == 2
    assert present[data.shifts["S5"]] == 0


async def test_unique_walkers_are_people_checked_in_on_held_walks(walks: list[Walk]) -> None:
    """P1, P2 (S1) and P1, P4 (S2): three people."""
    assert stats.unique_walkers(walks) == 3


async def test_new_walkers_had_their_first_walk_in_the_range(
    ctx: Context, walks: list[Walk], data: DataSet
) -> None:
    """P1 and P4 first walked in November; P2 walked S7 in October already."""
    first = await first_walks(ctx, sorted(stats.walker_ids(walks)))
    assert first[data.people["P2"]] == data.shifts["S7"]
    assert stats.new_walkers(walks, first) == 2


async def test_youth_buckets_take_each_walks_largest_submitted_bucket(walks: list[Walk]) -> None:
    """S1 merges 11-30 and 1-10 (the draft's 50+ does not count); S4 met nobody."""
    assert stats.youth_buckets(walks) == {"0": 1, "1-10": 0, "11-30": 1, "31-50": 0, "50+": 0}


async def test_youth_contacts_add_up_the_documented_estimates(walks: list[Walk]) -> None:
    """11-30 counts 20 and 0 counts 0: an estimate of 20 young people."""
    assert stats.YOUTH_ESTIMATE == {"0": 0, "1-10": 5, "11-30": 20, "31-50": 40, "50+": 60}
    assert stats.youth_contacts(walks) == 20


async def test_incidents_are_walks_with_help_or_services(walks: list[Walk]) -> None:
    """Only S1 had help given (mediation) and a service contacted (police)."""
    assert stats.incidents(walks) == 1


async def test_emergency_contacts_count_112_and_police(walks: list[Walk]) -> None:
    """S1 called the police; the per-service count says so too."""
    assert stats.emergency_contacts(walks) == 1
    assert stats.services_contacted(walks) == {"police": 1}


async def test_mood_distribution_takes_each_walks_most_unruly_mood(walks: list[Walk]) -> None:
    """S1 merges calm and mixed into mixed; S4 was calm; the draft's unruly does not count."""
    assert stats.mood_distribution(walks) == {"calm": 1, "mixed": 1, "unruly": 0}


async def test_places_flagged_count_walks_not_reports(walks: list[Walk]) -> None:
    """Larmtorget's broken light: both S1 reports (one walk) and S4 → 2; Stortorget glass → 1."""
    assert stats.places_flagged(walks) == [
        stats.PlaceCount("Larmtorget", "broken_light", 2),
        stats.PlaceCount("Stortorget", "glass", 1),
    ]


async def test_reports_and_report_rate(walks: list[Walk]) -> None:
    """Three submitted reports on two of the three held walks: rate 2/3."""
    assert stats.reports_filed(walks) == 3
    assert stats.walks_reported(walks) == 2
    assert stats.report_rate(walks) == pytest.approx(2 / 3)
    assert stats.report_rate([]) is None


async def test_time_band_windows_cross_midnight_in_local_time(ctx: Context) -> None:
    """A walk 21:00–01:00 CET has 2 h in 20–23 and 2 h in 23–02, none in 17–20 or 02–05."""
    interval = (datetime(2026, 11, 6, 20, tzinfo=UTC), datetime(2026, 11, 7, 0, tzinfo=UTC))
    hours = {band: stats.hours_in_band(band, interval, ctx.zone) for band in stats.BANDS}
    assert hours == {"17-20": 0, "20-23": 2, "23-02": 2, "02-05": 0}


async def test_breakdowns_per_organisation_area_band_and_night(ctx: Context, data: DataSet) -> None:
    """The report's breakdowns hold the hand-computed figures."""
    report = await stats.statistics(ctx, Actor.operator(), NOV_1, NOV_30)
    overall = report.overall
    assert (overall.planned, overall.held, overall.cancelled, overall.understaffed) == (6, 3, 1, 4)
    assert overall.walker_hours == 26.5 and overall.new_walkers == 2
    orgs = dict(report.by_organisation)
    assert (orgs["IFK Kalmar"].planned, orgs["IFK Kalmar"].held) == (4, 2)
    assert orgs["IFK Kalmar"].walker_hours == 18.5
    assert (orgs["Nattugglorna"].planned, orgs["Nattugglorna"].held) == (2, 1)
    areas = dict(report.by_area)
    assert (areas["Baronen"].planned, areas["Baronen"].held) == (4, 2)
    assert areas["Larmtorget"].moods == {"calm": 0, "mixed": 0, "unruly": 0}
    bands = dict(report.by_band)
    assert [bands[b].planned for b in stats.BANDS] == [0, 5, 6, 1]
    assert [bands[b].held for b in stats.BANDS] == [0, 2, 3, 1]
    assert [bands[b].walker_hours for b in stats.BANDS] == [0, 12, 12.5, 2]
    nights = dict(report.by_night)
    assert (nights["risk"].planned, nights["risk"].walker_hours) == (1, 7)
    assert (nights["ordinary"].planned, nights["ordinary"].held) == (5, 2)


async def test_weekly_rows_cover_every_week_of_the_range(ctx: Context, data: DataSet) -> None:
    """Six ISO weeks touch November 2026; S1+S2 in week 45, S4 in week 46."""
    report = await stats.statistics(ctx, Actor.operator(), NOV_1, NOV_30)
    assert [(w.week, w.held, w.walker_hours) for w in report.weeks] == [
        (44, 0, 0),
        (45, 2, 18.5),
        (46, 1, 8),
        (47, 0, 0),
        (48, 0, 0),
        (49, 0, 0),
    ]


async def test_a_lead_sees_only_their_organisation(ctx: Context, data: DataSet) -> None:
    """A lead of Nattugglorna gets S4 and S5 only."""
    lead = Actor(person_id=99, role=Role.LEAD, organisation_id=data.org_b, label="lead")
    report = await stats.statistics(ctx, lead, NOV_1, NOV_30)
    assert report.overall.planned == 2
    assert [name for name, _ in report.by_organisation] == ["Nattugglorna"]


async def test_a_volunteer_is_refused_statistics(ctx: Context, data: DataSet) -> None:
    """A volunteer asking for statistics gets PermissionDenied."""
    volunteer = Actor(person_id=1, role=Role.VOLUNTEER, organisation_id=data.org_a, label="v")
    with pytest.raises(PermissionDenied):
        await stats.statistics(ctx, volunteer, NOV_1, NOV_30)


async def test_payment_basis_per_organisation_and_month(ctx: Context, data: DataSet) -> None:
    """Per org and month: S1 and S4 qualify; S2, S3, S5, S6 do not, each with why; 500 kr each."""
    ctx = Context(
        store=ctx.store,
        settings=ctx.settings.model_copy(
            update={"payments": ctx.settings.payments.model_copy(update={"rate_per_walk": 500})}
        ),
        clock=ctx.clock,
    )
    basis = await payments.payment_basis(ctx, Actor.operator(), NOV_1, NOV_30)
    s = data.shifts
    by_org = {m.organisation: m for m in basis.months}
    ifk, natt = by_org["IFK Kalmar"], by_org["Nattugglorna"]
    assert ifk.month == natt.month == "2026-11"
    assert [line.walk.shift_id for line in ifk.qualifying] == [s["S1"]]
    assert {line.walk.shift_id: line.reasons for line in ifk.not_qualifying} == {
        s["S2"]: ("too_few_walkers", "no_report"),
        s["S3"]: ("cancelled",),
        s["S6"]: ("not_over",),
    }
    assert [line.walk.shift_id for line in natt.qualifying] == [s["S4"]]
    assert {line.walk.shift_id: line.reasons for line in natt.not_qualifying} == {
        s["S5"]: ("not_held",)
    }
    assert ifk.amount == Decimal(500) and natt.amount == Decimal(500)
    assert basis.total == Decimal(1000)


async def test_payment_basis_without_a_rate_has_no_amounts(ctx: Context, data: DataSet) -> None:
    """[payments] rate_per_walk unset: the walks are listed, no amount anywhere."""
    basis = await payments.payment_basis(ctx, Actor.operator(), NOV_1, NOV_30)
    assert basis.rate is None and basis.total is None
    assert all(month.amount is None for month in basis.months)
    assert sum(len(m.qualifying) for m in basis.months) == 2
