"""Small builders for tests: a seeded organisation, area, people and shifts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event

from models import thin
from models.tables import Person, Role, Shift
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import shifts

OPERATOR = Actor.operator()


async def seed_org_area(
    ctx: Context, org: str = "IFK Kalmar", area: str = "Baronen & Kalmar C"
) -> tuple[int, int]:
    o = await directory.add_organisation(ctx, OPERATOR, org)
    a = await directory.add_area(ctx, OPERATOR, area, meeting_point="Entrén mot stationen")
    return o.id or 0, a.id or 0


async def add_people(
    ctx: Context,
    count: int,
    *,
    org: int | None = None,
    trained: bool = False,
    role: str = Role.VOLUNTEER,
    prefix: str = "Walker",
    consent: bool = True,
) -> list[Person]:
    """People added as the CLI does; by default they have also given consent in the bot."""
    people = []
    for n in range(count):
        person = await directory.add_person(
            ctx, OPERATOR, name=f"{prefix} {n}", organisation=org, trained=trained, role=role
        )
        if consent:
            person = await directory.record_consent(ctx, person.id or 0)
        people.append(person)
    return people


async def add_shift(
    ctx: Context,
    org: int,
    area: int,
    *,
    start_in: timedelta = timedelta(days=3),
    hours: float = 4,
    min_walkers: int | None = None,
    max_walkers: int | None = None,
    risk_night: bool = False,
) -> Shift:
    """A shift starting ``start_in`` from the clock's now, in local wall time."""
    start = (
        (ctx.now() + start_in).astimezone(ctx.zone).replace(tzinfo=None, second=0, microsecond=0)
    )
    end = start + timedelta(hours=hours)
    spec = shifts.ShiftSpec(
        organisation=org,
        area=area,
        start=start,
        end=end,
        min_walkers=min_walkers,
        max_walkers=max_walkers,
        risk_night=risk_night,
    )
    # forced: tests about other things may put two shifts at one start (duplicates: test_plan_bulk)
    return (await shifts.create_shifts(ctx, OPERATOR, spec, force=True))[0]


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def with_settings(ctx: Context, **sections: dict[str, object]) -> Context:
    """The same store and clock, with some settings changed (validated like a config file)."""
    from scheduling.common.config import Settings

    data = ctx.settings.model_dump()
    for section, values in sections.items():
        data[section] = {**data[section], **values}
    return Context(store=ctx.store, settings=Settings.model_validate(data), clock=ctx.clock)


@contextmanager
def recorded(ctx: Context) -> Iterator[list[str]]:
    """The first word of every statement sent, and TRANSACTION where one began: those
    SQLAlchemy sends, and on psycopg those ``models/thin.py`` sends past it."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0].upper())

    def begin(_conn: Any) -> None:
        statements.append("TRANSACTION")

    async def send_thin(cursor: Any, compiled: Any, params: Any) -> Any:
        statements.append(compiled.sql.split()[0].upper())
        return await send(cursor, compiled, params)

    engine = ctx.store.engine.sync_engine
    send = thin._send
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "begin", begin)
    thin._send = send_thin  # type: ignore[assignment]
    try:
        yield statements
    finally:
        thin._send = send  # type: ignore[assignment]
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "begin", begin)
