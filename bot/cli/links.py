"""Links to hand out: ``vandra orgs ical ORG``, ``vandra people ical ID`` (calendar feeds) and
``vandra dashboard link ID`` (a one-time dashboard login)."""

from __future__ import annotations

from typing import Any

import click

from bot.cli.context import with_context
from bot.cli.errors import ID
from bot.cli.orgs import orgs
from bot.cli.people import people_group
from bot.cli.root import config_option
from scheduling.common.context import Context
from scheduling.links import calendar, logins
from scheduling.people.access import Actor
from scheduling.people.directory import get_person


def _renew_options(function: Any) -> Any:
    function = click.option("--revoke", is_flag=True, help="Revoke the link; print nothing.")(
        function
    )
    return click.option("--renew", is_flag=True, help="Revoke the old link and make a new one.")(
        function
    )


@orgs.command("ical")
@click.argument("organisation", metavar="ORG")
@_renew_options
@config_option
@with_context
async def orgs_ical(ctx: Context, organisation: str, renew: bool, revoke: bool) -> None:
    """Print the calendar-feed URL of an organisation's shifts (made on first use).

    \b
    Example:  vandra orgs ical "IFK Kalmar"
    """
    owner = await calendar.organisation_owner(ctx, organisation)
    await _print_feed(ctx, owner, renew, revoke)


@people_group.command("ical")
@click.argument("person_id", type=ID)
@_renew_options
@config_option
@with_context
async def people_ical(ctx: Context, person_id: int, renew: bool, revoke: bool) -> None:
    """Print the calendar-feed URL of a person's own shifts (made on first use).

    \b
    Example:  vandra people ical 12
    """
    owner = await calendar.person_owner(ctx, person_id)
    await _print_feed(ctx, owner, renew, revoke)


async def _print_feed(ctx: Context, owner: calendar.FeedOwner, renew: bool, revoke: bool) -> None:
    if revoke or renew:
        count = await calendar.revoke_tokens(ctx, Actor.operator(), owner)
        if revoke:
            click.echo(f"{count} link(s) revoked")
            return
    click.echo(await calendar.feed_url(ctx, owner))


@click.group("dashboard")
def dashboard_group() -> None:
    """The coordinator's web dashboard."""


@dashboard_group.command("link")
@click.argument("person_id", type=ID)
@config_option
@with_context
async def dashboard_link(ctx: Context, person_id: int) -> None:
    """Print a one-time dashboard login link for a coordinator or lead (15 minutes, single use).

    \b
    Example:  vandra dashboard link 3
    """
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
    click.echo(await logins.issue_dashboard_link(ctx, Actor.of(person, "cli")))
