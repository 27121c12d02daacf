"""``vandra orgs add|list``: the organisations that walk."""

from __future__ import annotations

import click

from bot.cli.context import with_context
from bot.cli.output import echo_json, json_option
from bot.cli.root import config_option
from bot.presenters import organisation_json, table
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.people.access import Actor


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
