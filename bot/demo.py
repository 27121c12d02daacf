"""``vandra demo``: a Kalmar weekend, offline, on a fresh example database.

It seeds IFK Kalmar and a private initiative, real centre areas and next weekend's Friday and
Saturday night shifts, then lets volunteers sign up, fill a shift, queue on the waitlist, cancel
(so the waitlist moves), and check in and out on an accelerated clock, printing what a
coordinator would see at each step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click

from bot.presenters import SHIFT_HEADERS, shift_rows, table
from models.db import Store, upgrade
from models.tables import Role
from scheduling import directory, shifts, signups
from scheduling.access import Actor
from scheduling.clock import ManualClock
from scheduling.config import Settings, format_duration
from scheduling.context import Context

ORGANISATIONS = ["IFK Kalmar", "Trygga vuxna Kalmar"]  # a club and a private initiative
AREAS = [
    ("Kalmar C & Baronen", "Kalmar C, stora entrén mot Baronen"),
    ("Kvarnholmen", "Stortorget, vid domkyrkans trappa"),
]
VOLUNTEERS = [
    ("Anna Lindqvist", 0, True),
    ("Erik Johansson", 0, False),
    ("Sara Nilsson", 0, False),
    ("Mohammed Ali", 0, True),
    ("Karin Berg", 0, False),
    ("Johan Ek", 0, False),
    ("Lena Holm", 1, True),
    ("Per Svensson", 1, False),
    ("Fatima Hassan", 1, False),
    ("Olof Strand", 1, False),
]


@dataclass
class DemoWorld:
    ctx: Context
    clock: ManualClock
    organisations: list[int]
    areas: list[int]
    people: dict[str, int]
    shift_ids: list[int]


def next_friday(today: date) -> date:
    """The coming Friday (a week on, when today is Friday or the weekend has begun)."""
    days = (4 - today.weekday()) % 7
    return today + timedelta(days=days or 7)


def say(heading: str) -> None:
    click.echo("")
    click.secho(f"== {heading}", bold=True)


async def seed(ctx: Context, clock: ManualClock) -> DemoWorld:
    """Organisations, areas, people and next weekend's Fri+Sat shifts for each organisation."""
    operator = Actor.operator()
    org_ids = [
        (await directory.add_organisation(ctx, operator, name)).id or 0 for name in ORGANISATIONS
    ]
    area_ids = [
        (await directory.add_area(ctx, operator, name, point)).id or 0 for name, point in AREAS
    ]
    people: dict[str, int] = {}
    await directory.add_person(
        ctx, operator, name="Maria Kommunsson (samordnare, BRÅ)", role=Role.COORDINATOR
    )
    for index, org in enumerate(org_ids):
        lead = await directory.add_person(
            ctx,
            operator,
            name=f"Gruppledare {index + 1}",
            organisation=org,
            role=Role.LEAD,
            trained=True,
        )
        people[lead.name] = lead.id or 0
    for name, org_index, trained in VOLUNTEERS:
        person = await directory.add_person(
            ctx, operator, name=name, organisation=org_ids[org_index], trained=trained
        )
        await directory.record_consent(ctx, person.id or 0)  # as if they had said yes in the bot
        people[name] = person.id or 0
    friday = next_friday(clock.now().astimezone(ctx.zone).date())
    shift_ids: list[int] = []
    for org, area in zip(org_ids, area_ids, strict=True):
        spec = shifts.ShiftSpec(
            organisation=org,
            area=area,
            start=datetime.combine(friday, time(21, 0)),
            end=datetime.combine(friday + timedelta(days=1), time(1, 0)),
            min_walkers=3,
            max_walkers=4,
        )
        created = await shifts.create_shifts(
            ctx, operator, spec, repeat={4, 5}, until=friday + timedelta(days=1)
        )
        shift_ids += [s.id or 0 for s in created]
    return DemoWorld(ctx, clock, org_ids, area_ids, people, shift_ids)


async def show_shifts(world: DemoWorld) -> None:
    views = await shifts.list_shifts(world.ctx)
    click.echo(table(SHIFT_HEADERS, shift_rows(views, world.ctx.zone, world.ctx.now())))


async def play(world: DemoWorld) -> None:
    """The weekend: sign-ups, a full shift and its waitlist, a cancellation, the walk itself."""
    ctx, people = world.ctx, world.people
    friday_ifk = world.shift_ids[0]
    say("Next weekend's shifts, as the coordinator sees them (nobody signed up yet)")
    await show_shifts(world)

    say("IFK Kalmar volunteers sign up for Friday (4 seats)")
    for name in [
        "Anna Lindqvist",
        "Erik Johansson",
        "Sara Nilsson",
        "Mohammed Ali",
        "Karin Berg",
        "Johan Ek",
    ]:
        result = await signups.sign_up(ctx, people[name], friday_ifk)
        where = (
            "confirmed"
            if result.outcome == "confirmed"
            else f"waitlist #{result.waitlist_position}"
        )
        click.echo(
            f"  {name:<16} -> {where}  ({result.view.seats_taken}/"
            f"{result.view.shift.max_walkers}, {result.view.staffing})"
        )

    say("Erik cancels two days before: the first on the waitlist is offered his seat")
    world.clock.advance(timedelta(hours=12))
    cancelled = await signups.cancel_signup(ctx, people["Erik Johansson"], friday_ifk)
    promoted = [name for name, pid in people.items() if pid in cancelled.promoted_person_ids]
    click.echo(
        f"  seat offered to: {', '.join(promoted)} (must confirm within "
        f"{format_duration(ctx.settings.reminders.promotion_confirm_within)})"
    )
    result = await signups.sign_up(ctx, people["Karin Berg"], friday_ifk)
    click.echo(f"  Karin Berg confirms -> {result.outcome}; staffing now {result.view.staffing}")

    say("The private initiative fills Saturday")
    saturday_private = world.shift_ids[3]
    for name in ["Lena Holm", "Per Svensson", "Fatima Hassan"]:
        await signups.sign_up(ctx, people[name], saturday_private)
    await show_shifts(world)

    say("Friday night: the group checks in at the meeting point and out after the walk")
    async with ctx.store.transaction() as session:
        shift = await shifts.get_shift(session, friday_ifk)
    world.clock.set(shift.start_at - timedelta(minutes=10))
    walkers = ["Anna Lindqvist", "Sara Nilsson", "Mohammed Ali", "Karin Berg"]
    for name in walkers:
        await signups.check_in(ctx, people[name], friday_ifk)
    click.echo(
        f"  {len(walkers)} checked in at "
        f"{world.clock.now().astimezone(ctx.zone):%H:%M} (local time)"
    )
    world.clock.set(shift.end_at + timedelta(minutes=5))
    for name in walkers:
        await signups.check_out(ctx, people[name], friday_ifk)
    click.echo(
        f"  {len(walkers)} checked out at "
        f"{world.clock.now().astimezone(ctx.zone):%H:%M}; the walk is held"
    )


def fresh_database(database: Path) -> None:
    """Remove an earlier demo database (and its WAL files); make its folder."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)


async def run_demo(settings: Settings, database: Path, now: datetime) -> None:
    """Seed a fresh example database and play the weekend on an accelerated clock."""
    fresh_database(database)
    demo_settings = settings.model_copy(
        update={"database": settings.database.model_copy(update={"url": f"sqlite:///{database}"})}
    )
    clock = ManualClock(now)
    store = Store.open(demo_settings.database.url)
    try:
        await upgrade(store.engine)
        ctx = Context(store=store, settings=demo_settings, clock=clock)
        click.secho("vandra demo: a Kalmar weekend of vuxenvandringar, offline", bold=True)
        click.echo(f"example database: {database}")
        world = await seed(ctx, clock)
        await play(world)
        say("Done")
        first_day = world.clock.now().astimezone(ctx.zone).date() - timedelta(days=1)
        click.echo("Look around in the example database:")
        click.echo(
            f"  VANDRA_DATABASE_URL=sqlite:///{database} .venv/bin/vandra shifts list "
            f"--from {first_day}"
        )
    finally:
        await store.close()
