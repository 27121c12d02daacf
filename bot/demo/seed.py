"""The demo's database: two organisations, two areas, the people, next weekend's shifts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.demo.cast import AREAS, COORDINATOR, LEAD, ORGANISATIONS, PARTNERS, WALKERS
from models.tables import Role
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import shifts


async def seed(ctx: Context, friday: date) -> tuple[dict[str, int], list[int]]:
    """Everyone with consent recorded, and Friday and Saturday shifts for each organisation."""
    operator = Actor.operator()
    orgs = [(await directory.add_organisation(ctx, operator, n)).id or 0 for n in ORGANISATIONS]
    areas = [(await directory.add_area(ctx, operator, n, p)).id or 0 for n, p in AREAS]
    people = await _people(ctx, orgs)
    day = friday
    shift_ids: list[int] = []
    for org, area in zip(orgs, areas, strict=True):
        spec = shifts.ShiftSpec(
            organisation=org,
            area=area,
            start=datetime.combine(day, time(21, 0)),
            end=datetime.combine(day + timedelta(days=1), time(1, 0)),
            min_walkers=3,
            max_walkers=4,
        )
        created = await shifts.create_shifts(
            ctx, operator, spec, repeat={4, 5}, until=day + timedelta(days=1)
        )
        shift_ids += [s.id or 0 for s in created]
    return people, shift_ids


async def _people(ctx: Context, orgs: list[int]) -> dict[str, int]:
    people: dict[str, int] = {}
    for walker, role in [(COORDINATOR, Role.COORDINATOR), (LEAD, Role.LEAD)] + [
        (w, Role.VOLUNTEER) for w in WALKERS
    ] + [(p, Role.PARTNER) for p in PARTNERS]:
        person = await directory.add_person(
            ctx,
            Actor.operator(),
            name=walker.name,
            phone=walker.phone,
            telegram_id=walker.telegram_id,
            organisation=None if role == Role.PARTNER else orgs[walker.org],
            role=role,
            trained=walker.trained,
        )
        await directory.record_consent(ctx, person.id or 0)  # as if they had said yes in the bot
        people[walker.name] = person.id or 0
    return people
