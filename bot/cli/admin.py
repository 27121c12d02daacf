"""Admin commands: organisations, areas, people and shifts."""

from __future__ import annotations

from typing import Literal, cast

import click

from bot.cli.context import with_context
from bot.cli.output import echo_json, json_option
from bot.cli.root import config_option
from bot.presenters import (
    SHIFT_HEADERS,
    area_json,
    organisation_json,
    person_json,
    shift_json,
    shift_rows,
    table,
)
from models.tables import Role
from scheduling.common.context import Context
from scheduling.common.localtime import parse_date, parse_local_datetime
from scheduling.people import directory
from scheduling.people import erasure as people
from scheduling.people.access import Actor
from scheduling.walks import shifts

# --- organisations ---------------------------------------------------------------------------


@click.group()
def orgs() -> None:
    """Organisations that walk: a football club, a private initiative, ..."""


@orgs.command("add")
@click.argument("name")
@json_option
@config_option
@with_context
async def orgs_add(ctx: Context, name: str, as_json: bool) -> None:
    """Add an organisation and print its id.

    \b
    Example:  vandra orgs add "IFK Kalmar"
    """
    org = await directory.add_organisation(ctx, Actor.operator(), name)
    echo_json([organisation_json(org)]) if as_json else click.echo(org.id)


@orgs.command("list")
@json_option
@config_option
@with_context
async def orgs_list(ctx: Context, as_json: bool) -> None:
    """List the organisations.

    \b
    Example:  vandra orgs list --json
    """
    found = await directory.list_organisations(ctx)
    if as_json:
        echo_json([organisation_json(org) for org in found])
    else:
        click.echo(table(["id", "name"], [[org.id, org.name] for org in found]))


# --- areas -----------------------------------------------------------------------------------


@click.group()
def areas() -> None:
    """Walk areas and their meeting points."""


@areas.command("add")
@click.argument("name")
@click.option("--meeting-point", metavar="TEXT", help="Where the group meets.")
@json_option
@config_option
@with_context
async def areas_add(ctx: Context, name: str, meeting_point: str | None, as_json: bool) -> None:
    """Add a walk area and print its id.

    \b
    Example:  vandra areas add "Baronen & Kalmar C" --meeting-point "Entrén mot stationen"
    """
    area = await directory.add_area(ctx, Actor.operator(), name, meeting_point)
    echo_json([area_json(area)]) if as_json else click.echo(area.id)


@areas.command("list")
@json_option
@config_option
@with_context
async def areas_list(ctx: Context, as_json: bool) -> None:
    """List the walk areas.

    \b
    Example:  vandra areas list
    """
    found = await directory.list_areas(ctx)
    if as_json:
        echo_json([area_json(area) for area in found])
    else:
        click.echo(
            table(["id", "name", "meeting point"], [[a.id, a.name, a.meeting_point] for a in found])
        )


# --- people ----------------------------------------------------------------------------------


@click.group("people")
def people_group() -> None:
    """Walkers, leads and coordinators."""


@people_group.command("add")
@click.option("--name", required=True, help="Display name.")
@click.option("--phone", help="Mobile number (stored in E.164; Swedish numbers may omit +46).")
@click.option("--telegram-id", type=int, help="Telegram user id.")
@click.option("--org", "organisation", metavar="ORG", help="Organisation name or id.")
@click.option("--role", type=click.Choice(Role.ALL), default=Role.VOLUNTEER, show_default=True)
@click.option("--trained", is_flag=True, help="Has done the walk course.")
@click.option(
    "--lang", "language", type=click.Choice(["sv", "en"]), default="sv", show_default=True
)
@json_option
@config_option
@with_context
async def people_add(
    ctx: Context,
    name: str,
    phone: str | None,
    telegram_id: int | None,
    organisation: str | None,
    role: str,
    trained: bool,
    language: str,
    as_json: bool,
) -> None:
    """Add a person (counts as registered) and print the id.

    \b
    Example:  vandra people add --name "Anna L" --phone 0701234567 --org "IFK Kalmar" --trained
    """
    person = await directory.add_person(
        ctx,
        Actor.operator(),
        name=name,
        phone=phone,
        telegram_id=telegram_id,
        organisation=organisation,
        role=role,
        trained=trained,
        language=language,
    )
    if as_json:
        org_name = None
        if person.organisation_id is not None:
            async with ctx.store.transaction() as session:
                org_name = (await directory.find_organisation(session, person.organisation_id)).name
        data = person_json(person, None)
        data["organisation"] = org_name
        echo_json([data])
    else:
        click.echo(person.id)


@people_group.command("list")
@json_option
@click.option("--with-contacts", is_flag=True, help="Include phone numbers and Telegram ids.")
@config_option
@with_context
async def people_list(ctx: Context, as_json: bool, with_contacts: bool) -> None:
    """List people (contacts only with --with-contacts).

    \b
    Example:  vandra people list --json
    """
    found = await directory.list_people(ctx)
    if with_contacts:
        await people.audit_contacts_viewed(ctx, Actor.operator(), len(found))
    if as_json:
        echo_json([person_json(p, org, with_contacts) for p, org in found])
        return
    headers = ["id", "name", "organisation", "role", "trained", "lang", "reachable"]
    if with_contacts:
        headers += ["phone", "telegram id"]
    rows = []
    for person, org in found:
        data = person_json(person, org, with_contacts)
        reach = [
            c
            for c, ok in (("telegram", data["telegram_reachable"]), ("sms", data["sms_reachable"]))
            if ok
        ]
        row: list[object] = [
            person.id,
            person.name,
            data["organisation"],
            person.role,
            "yes" if person.trained else "",
            person.language,
            ",".join(reach) or "-",
        ]
        if with_contacts:
            row += [person.phone, person.telegram_id]
        rows.append(row)
    click.echo(table(headers, rows))


@people_group.command("remove")
@click.argument("person_id", type=int)
@config_option
@with_context
async def people_remove(ctx: Context, person_id: int) -> None:
    """Erase a person: personal data deleted, reports kept without the name.

    \b
    Example:  vandra people remove 12
    """
    await people.erase_person(ctx, Actor.operator(), person_id)
    click.echo(f"person {person_id} erased")


@people_group.command("data")
@click.argument("person_id", type=int)
@config_option
@with_context
async def people_data(ctx: Context, person_id: int) -> None:
    """Print everything stored about a person as JSON (a request for one's own data; audited).

    \b
    Example:  vandra people data 12 > person-12.json
    """
    from scheduling.people.privacy import export_person_data

    echo_json(await export_person_data(ctx, Actor.operator(), person_id))


# --- shifts ----------------------------------------------------------------------------------


@click.group("shifts")
def shifts_group() -> None:
    """Walk shifts: add (once or weekly), list with staffing, cancel."""


@shifts_group.command("add")
@click.option(
    "--org", "organisation", required=True, metavar="ORG", help="Organisation name or id."
)
@click.option("--area", required=True, metavar="AREA", help="Area name or id.")
@click.option("--start", required=True, metavar='"YYYY-MM-DD HH:MM"', help="Local start time.")
@click.option("--end", required=True, metavar='"YYYY-MM-DD HH:MM"', help="Local end time.")
@click.option("--min", "min_walkers", type=int, help="Minimum walkers [walks.min_walkers].")
@click.option("--max", "max_walkers", type=int, help="Maximum walkers [walks.max_walkers].")
@click.option("--risk-night", is_flag=True, help="Payday weekend, Valborg, big event...")
@click.option("--repeat", metavar="fri,sat", help="Repeat weekly on these days ...")
@click.option("--until", metavar="YYYY-MM-DD", help="... up to and including this date.")
@click.option("--notes", metavar="TEXT", help="A note shown with the shift.")
@click.option(
    "--fold",
    type=click.Choice(["earlier", "later"]),
    help="Which 02:00-03:00 to mean on the night the clocks go back.",
)
@json_option
@config_option
@with_context
async def shifts_add(
    ctx: Context,
    organisation: str,
    area: str,
    start: str,
    end: str,
    min_walkers: int | None,
    max_walkers: int | None,
    risk_night: bool,
    repeat: str | None,
    until: str | None,
    notes: str | None,
    fold: str | None,
    as_json: bool,
) -> None:
    """Add a shift, or a weekly series; times are local (Europe/Stockholm). Prints the ids.

    Past dates are accepted here, to record walks that already happened.

    \b
    Examples:
      vandra shifts add --org "IFK Kalmar" --area Baronen \
          --start "2026-11-27 21:00" --end "2026-11-28 01:00"
      vandra shifts add --org 1 --area 1 --start "2026-11-27 21:00" \
          --end "2026-11-28 01:00" --repeat fri,sat --until 2026-12-19
    """
    spec = shifts.ShiftSpec(
        organisation=organisation,
        area=area,
        start=parse_local_datetime(start),
        end=parse_local_datetime(end),
        min_walkers=min_walkers,
        max_walkers=max_walkers,
        risk_night=risk_night,
        notes=notes,
        fold=cast(Literal["earlier", "later"] | None, fold),
    )
    created = await shifts.create_shifts(
        ctx,
        Actor.operator(),
        spec,
        repeat=shifts.parse_weekdays(repeat) if repeat else None,
        until=parse_date(until) if until else None,
        allow_past=True,
    )
    if as_json:
        async with ctx.store.transaction() as session:
            views = await shifts.shift_views(session, ctx, shift_ids=[s.id or 0 for s in created])
        echo_json([shift_json(v, ctx.zone, ctx.now()) for v in views])
    else:
        click.echo("\n".join(str(s.id) for s in created))


@shifts_group.command("list")
@click.option("--from", "first_day", metavar="DATE", help="First local day (YYYY-MM-DD).")
@click.option("--to", "last_day", metavar="DATE", help="Last local day, included.")
@json_option
@config_option
@with_context
async def shifts_list(
    ctx: Context, first_day: str | None, last_day: str | None, as_json: bool
) -> None:
    """List shifts with staffing (without a range: everything not yet over).

    \b
    Example:  vandra shifts list --from 2026-10-23 --to 2026-10-31
    """
    views = await shifts.list_shifts(
        ctx,
        parse_date(first_day) if first_day else None,
        parse_date(last_day) if last_day else None,
    )
    if as_json:
        echo_json([shift_json(v, ctx.zone, ctx.now()) for v in views])
    elif not views:
        click.echo("no shifts")
    else:
        click.echo(table(SHIFT_HEADERS, shift_rows(views, ctx.zone, ctx.now())))


@shifts_group.command("cancel")
@click.argument("shift_id", type=int)
@click.option("--reason", metavar="TEXT", help="Told to everyone signed up.")
@config_option
@with_context
async def shifts_cancel(ctx: Context, shift_id: int, reason: str | None) -> None:
    """Cancel a shift; everyone signed up is told.

    \b
    Example:  vandra shifts cancel 12 --reason "Storm warning"
    """
    await shifts.cancel_shift(ctx, Actor.operator(), shift_id, reason)
    click.echo(f"shift {shift_id} cancelled")
