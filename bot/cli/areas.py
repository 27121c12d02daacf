"""``vandra areas add|list``: walk areas and their meeting points."""

from __future__ import annotations

import click

from bot.cli.context import with_context
from bot.cli.output import echo_json, json_option
from bot.cli.root import config_option
from bot.presenters import area_json, table
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.people.access import Actor


@click.group()
def areas() -> None:
    """Walk areas and their meeting points."""


@areas.command("add")
@click.argument("name")
@click.option("--meeting-point", metavar="TEXT", help="Where the group meets.")
@click.option("--lat", type=float, metavar="LAT", help="The meeting point's latitude (-90..90).")
@click.option("--lon", type=float, metavar="LON", help="Its longitude (-180..180).")
@json_option
@config_option
@with_context
async def areas_add(
    ctx: Context, name: str, meeting_point: str | None, lat: float | None, lon: float | None,
    as_json: bool,
) -> None:
    """Add a walk area and print its id. With --lat and --lon (both), the group intro carries
    a map link to the meeting point.

    \b
    Example:  vandra areas add "Baronen & Kalmar C" --meeting-point "Entrén mot stationen" \
                  --lat 56.6616 --lon 16.3604
    """
    area = await directory.add_area(ctx, Actor.operator(), name, meeting_point, lat, lon)
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
