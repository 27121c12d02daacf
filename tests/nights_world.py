"""A kommun with three organisations, a lead each and a coordinator, for the nights tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from models.tables import Person, Role
from scheduling.common.context import Context
from scheduling.nights.publish import NightSpec, publish_nights
from scheduling.people import directory
from scheduling.people.access import Actor
from tests.helpers import OPERATOR, add_people


@dataclass
class Kommun:
    orgs: list[int]  # IFK, Röda Korset, Nattvandrarna
    leads: list[Person]
    coordinator: Person
    area: int

    def lead(self, n: int) -> Actor:
        return Actor.of(self.leads[n], "telegram")


async def kommun(ctx: Context) -> Kommun:
    orgs = [(await directory.add_organisation(ctx, OPERATOR, name)).id or 0
            for name in ("IFK Kalmar", "Röda Korset", "Nattvandrarna")]
    area = await directory.add_area(ctx, OPERATOR, "Stortorget", meeting_point="Domkyrkan")
    leads = [(await add_people(ctx, 1, org=org, role=Role.LEAD, prefix=f"Lead{n}"))[0]
             for n, org in enumerate(orgs)]
    (coordinator,) = await add_people(ctx, 1, role=Role.COORDINATOR, prefix="Coord")
    return Kommun(orgs, leads, coordinator, area.id or 0)


async def publish(ctx: Context, k: Kommun, days: int = 5, hours: float = 4, **more: object) -> int:
    """One open night ``days`` from now; its id."""
    start = (ctx.now() + timedelta(days=days)).astimezone(ctx.zone).replace(
        tzinfo=None, second=0, microsecond=0)
    spec = NightSpec(area=k.area, start=start, end=start + timedelta(hours=hours), **more)  # type: ignore[arg-type]
    nights = await publish_nights(ctx, Actor.of(k.coordinator, "telegram"), spec)
    return nights[0].id or 0
