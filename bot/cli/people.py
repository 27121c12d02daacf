"""``vandra people add|list|remove|data|approve|reject|vet``: walkers, leads and coordinators."""

from __future__ import annotations

from datetime import datetime

import click

from bot.cli.context import with_context
from bot.cli.errors import ID
from bot.cli.output import echo_json, json_option
from bot.cli.root import config_option
from bot.presenters import CONTACT_HEADERS, PEOPLE_HEADERS, person_json, person_row, table
from models.tables import Person, Role
from scheduling.common.context import Context
from scheduling.people import directory, vetting
from scheduling.people import erasure as people
from scheduling.people.access import Actor
from scheduling.walks import approval


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
        echo_json([await _new_person_json(ctx, person)])
    else:
        click.echo(person.id)


async def _new_person_json(ctx: Context, person: Person) -> dict[str, object]:
    org_name = None
    if person.organisation_id is not None:
        async with ctx.store.transaction() as session:
            org_name = (await directory.find_organisation(session, person.organisation_id)).name
    data = person_json(person, None)
    data["organisation"] = org_name
    return data


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
    headers = PEOPLE_HEADERS + (CONTACT_HEADERS if with_contacts else [])
    click.echo(table(headers, [person_row(p, org, with_contacts) for p, org in found]))


@people_group.command("remove")
@click.argument("person_id", type=ID)
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
@click.argument("person_id", type=ID)
@config_option
@with_context
async def people_data(ctx: Context, person_id: int) -> None:
    """Print everything stored about a person as JSON (a request for one's own data; audited).

    \b
    Example:  vandra people data 12 > person-12.json
    """
    from scheduling.people.privacy import export_person_data

    echo_json(await export_person_data(ctx, Actor.operator(), person_id))


@people_group.command("approve")
@click.argument("person_id", type=ID)
@config_option
@with_context
async def people_approve(ctx: Context, person_id: int) -> None:
    """Approve a walker who registered through the bot (``[walks] approval``); they are told,
    and signed up for the shift they asked for while waiting.

    \b
    Example:  vandra people approve 12
    """
    done = await approval.approve_person(ctx, Actor.operator(), person_id)
    signed = f", {done.outcome} for shift {done.shift_id}" if done.shift_id else ""
    click.echo(f"person {person_id} approved{signed}")


@people_group.command("reject")
@click.argument("person_id", type=ID)
@config_option
@with_context
async def people_reject(ctx: Context, person_id: int) -> None:
    """Turn down a walker waiting for approval: they are told politely, then erased.

    \b
    Example:  vandra people reject 12
    """
    await approval.reject_person(ctx, Actor.operator(), person_id)
    click.echo(f"person {person_id} rejected")


@people_group.command("vet")
@click.argument("person_id", type=ID)
@click.option(
    "--course",
    "course_on",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="DATE",
    help="The day they did the walk course (marks them trained).",
)
@click.option(
    "--record-check",
    "record_checked_on",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="DATE",
    help="The day they showed a police-record extract (none is stored).",
)
@config_option
@with_context
async def people_vet(
    ctx: Context, person_id: int, course_on: datetime | None, record_checked_on: datetime | None
) -> None:
    """Record a walker's walk course and/or police-record check.

    \b
    Example:  vandra people vet 12 --course 2026-10-03 --record-check 2026-11-20
    """
    if course_on is None and record_checked_on is None:
        raise click.UsageError("give --course DATE and/or --record-check DATE")
    await vetting.set_vetting(
        ctx,
        Actor.operator(),
        person_id,
        course_on=course_on.date() if course_on else None,
        record_checked_on=record_checked_on.date() if record_checked_on else None,
    )
    click.echo(f"person {person_id} updated")
