"""A small Kalmar world for the scheduler tests: an organisation, its lead, a coordinator,
walkers who can be reached, and helpers to read the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlmodel import SQLModel, col, select

from models.tables import OutboxMessage, Person, Role, Shift
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.walks import shifts
from tests.helpers import OPERATOR, seed_org_area


@dataclass
class World:
    org: int
    area: int
    lead: Person
    coordinator: Person
    walkers: list[Person]

    @property
    def managers(self) -> set[int]:
        return {self.lead.id or 0, self.coordinator.id or 0}


async def person(
    ctx: Context,
    name: str,
    *,
    org: int | None = None,
    role: str = Role.VOLUNTEER,
    phone: str | None = None,
    telegram_id: int | None = None,
    trained: bool = False,
    language: str = "sv",
) -> Person:
    added = await directory.add_person(
        ctx,
        OPERATOR,
        name=name,
        organisation=org,
        role=role,
        phone=phone,
        telegram_id=telegram_id,
        trained=trained,
        language=language,
    )
    return await directory.record_consent(ctx, added.id or 0)  # as if they said yes in the bot


async def make_world(ctx: Context, walkers: int = 4) -> World:
    """IFK Kalmar with a lead (phone), a coordinator (Telegram) and Telegram walkers."""
    org, area = await seed_org_area(ctx)
    lead = await person(
        ctx, "Lena Ledare", org=org, role=Role.LEAD, phone="0701111111", trained=True
    )
    coordinator = await person(ctx, "Maria Samordnare", role=Role.COORDINATOR, telegram_id=9000)
    people = [
        await person(ctx, f"Walker {n}", org=org, telegram_id=1000 + n, phone=f"07022222{n:02d}")
        for n in range(walkers)
    ]
    return World(org, area, lead, coordinator, people)


async def shift_at(
    ctx: Context,
    world: World,
    start: str,
    end: str,
    *,
    min_walkers: int = 1,
    max_walkers: int = 8,
    area: int | None = None,
    fold: str | None = None,
) -> Shift:
    """A shift at local wall times ``YYYY-MM-DD HH:MM``."""
    spec = shifts.ShiftSpec(
        organisation=world.org,
        area=area or world.area,
        start=datetime.strptime(start, "%Y-%m-%d %H:%M"),
        end=datetime.strptime(end, "%Y-%m-%d %H:%M"),
        min_walkers=min_walkers,
        max_walkers=max_walkers,
        fold=fold,  # type: ignore[arg-type]
    )
    return (await shifts.create_shifts(ctx, OPERATOR, spec, force=True))[0]


async def outbox(
    ctx: Context, kind: str | None = None, status: str | None = None
) -> list[OutboxMessage]:
    async with ctx.store.sessions() as session:
        statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if kind is not None:
            statement = statement.where(col(OutboxMessage.kind) == kind)
        if status is not None:
            statement = statement.where(col(OutboxMessage.status) == status)
        return list((await session.exec(statement)).all())


def local(moment: datetime | None, ctx: Context) -> str:
    """A stored instant as local wall time with its zone, e.g. ``2026-10-24 20:00 CEST``."""
    assert moment is not None
    return f"{moment.astimezone(ctx.zone):%Y-%m-%d %H:%M %Z}"


Row = TypeVar("Row", bound=SQLModel)


async def stored_row(ctx: Context, model: type[Row], row_id: int) -> Row:
    """The row as it stands in the store now (it must exist)."""
    async with ctx.store.sessions() as session:
        found = await session.get(model, row_id)
    assert found is not None, f"{model.__name__} {row_id} is not stored"
    return found
