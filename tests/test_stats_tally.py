"""The statistics counted from tallies (evaluation/walk_tally.py, tally_sums.py; here none is
stored yet, so every walk is counted from the raw rows: tests/test_walk_tallies.py checks the
stored ones) are the figures ``build_report`` counts from ``Walk`` objects: on the hand-built
month, and on a random year of walks across both summer-time changes, for everything and for
one organisation."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from evaluation import statistics as stats
from evaluation.walk_facts import MOODS, YOUTH_BUCKETS, first_walks, load_walks
from models.tables import Area, Organisation, Person, Report, Shift, Signup
from scheduling.common.context import Context
from tests.coord_data import build

SERVICES = ("112", "police", "ambulance", "outreach")
PLACES = (("Larmtorget", "broken_light"), ("Stortorget", "glass"), ("Baronen", "bushes"))


async def by_walks(
    ctx: Context, first: date, last: date, organisation_id: int | None = None
) -> stats.StatsReport:
    walks = await load_walks(ctx, first, last, organisation_id)
    firsts = await first_walks(ctx, sorted(stats.walker_ids(walks)))
    return stats.build_report(walks, firsts, first, last, ctx.zone, organisation_id)


def same(expected: Any, found: Any, where: str = "report") -> None:
    """Equal, walker-hours to within a rounding step (sums in another order)."""
    if dataclasses.is_dataclass(expected) and not isinstance(expected, type):
        for item in dataclasses.fields(expected):
            same(getattr(expected, item.name), getattr(found, item.name), f"{where}.{item.name}")
    elif isinstance(expected, list | tuple):
        assert len(expected) == len(found), where
        for n, (a, b) in enumerate(zip(expected, found, strict=True)):
            same(a, b, f"{where}[{n}]")
    elif isinstance(expected, float):
        assert found == pytest.approx(expected, abs=0.011), where
    else:
        assert expected == found, where


async def test_the_hand_built_month(ctx: Context) -> None:
    data = await build(ctx)
    nov = (date(2026, 11, 1), date(2026, 11, 30))
    same(await by_walks(ctx, *nov), await stats.statistics_for(ctx, *nov))
    same(await by_walks(ctx, *nov, data.org_b), await stats.statistics_for(ctx, *nov, data.org_b))


async def random_year(ctx: Context, rng: random.Random) -> list[int]:
    """Two organisations' walks through 2026 (both summer-time changes), with every kind of
    sign-up, check-in, check-out and report; the organisations' ids."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        orgs = [Organisation(name=f"Org {n}", name_key=f"org {n}", created_at=now) for n in "AB"]
        areas = [Area(name=f"Area {n}", name_key=f"area {n}", created_at=now) for n in "xyz"]
        session.add_all(orgs + areas)
        await session.flush()
        people = [
            Person(name=f"P{n}", organisation_id=orgs[n % 2].id, trained=n % 3 == 0, created_at=now)
            for n in range(30)
        ]
        session.add_all(people)
        await session.flush()
        for day in range(0, 365, 3):
            await _walk(session, rng, datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day),
                        orgs, areas, people)  # fmt: skip
    return [o.id or 0 for o in orgs]


async def _walk(session: Any, rng: random.Random, day: datetime, orgs: Any, areas: Any,
                people: Any) -> None:  # fmt: skip
    start = day + timedelta(hours=rng.choice((15, 16, 17.5, 19, 21, 22, 23.5)))
    end = start + timedelta(hours=rng.choice((2, 3, 4, 5)), minutes=rng.choice((0, 30)))
    shift = Shift(
        organisation_id=rng.choice(orgs).id, area_id=rng.choice(areas).id, start_at=start,
        end_at=end, min_walkers=rng.randint(1, 3), max_walkers=rng.randint(3, 6),
        status="cancelled" if rng.random() < 0.1 else "planned", risk_night=rng.random() < 0.3,
        created_at=start,
    )  # fmt: skip
    session.add(shift)
    await session.flush()
    for person in rng.sample(people, rng.randint(0, 6)):
        came = start + timedelta(minutes=rng.randint(-40, 90)) if rng.random() < 0.7 else None
        left = None
        if came is not None and rng.random() < 0.8:
            left = came + timedelta(minutes=rng.randint(-30, 400))
        session.add(Signup(
            shift_id=shift.id, person_id=person.id, queued_at=start - timedelta(days=2),
            status=rng.choice(("confirmed", "confirmed", "confirmed", "waitlisted", "cancelled")),
            checked_in_at=came, checked_out_at=left,
            no_show=came is None and rng.random() < 0.4,
        ))  # fmt: skip
    for person in rng.sample(people, rng.choice((0, 0, 1, 2))):
        session.add(Report(
            shift_id=shift.id, person_id=person.id,
            status="submitted" if rng.random() < 0.85 else "draft",
            walkers_present=rng.choice((None, 1, 2, 5, 8)),
            youth_met=rng.choice((None, "bogus", *YOUTH_BUCKETS)),
            mood=rng.choice((None, *MOODS)),
            help_given=rng.sample(("mediation", "first_aid"), rng.randint(0, 1)),
            services_contacted=rng.sample(SERVICES, rng.choice((0, 0, 1, 2))),
            place_issues=[{"place": p, "category": c}
                          for p, c in rng.sample(PLACES, rng.randint(0, 2))],
            created_at=end,
        ))  # fmt: skip


async def test_a_random_year_across_summer_time(ctx: Context) -> None:
    orgs = await random_year(ctx, random.Random(19))
    for first, last in (
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2026, 3, 28), date(2026, 3, 30)),  # summer time starts on the 29th
        (date(2026, 10, 24), date(2026, 11, 2)),  # and ends on the 25th
        (date(2026, 6, 15), date(2026, 9, 1)),  # walkers whose first walk was before
    ):
        same(await by_walks(ctx, first, last), await stats.statistics_for(ctx, first, last))
        same(
            await by_walks(ctx, first, last, orgs[1]),
            await stats.statistics_for(ctx, first, last, orgs[1]),
        )
