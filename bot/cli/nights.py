"""``vandra nights publish|list|allocate|give-back``: nights the kommun offers to the
organisations (``scheduling/nights``)."""

from __future__ import annotations

from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

import click

from bot.cli.context import with_context
from bot.cli.errors import ID
from bot.cli.output import echo_json, json_option
from bot.cli.root import config_option
from bot.presenters import table
from scheduling.common.context import Context
from scheduling.common.localtime import parse_date, parse_local_datetime
from scheduling.nights import claims, handover
from scheduling.nights.publish import NightSpec, publish_nights
from scheduling.nights.views import NightView, upcoming_nights
from scheduling.people.access import Actor
from scheduling.walks.series import parse_weekdays

HEADERS = ("id", "start", "end", "area", "min", "organisation", "claims", "reserves")


@click.group("nights")
def nights_group() -> None:
    """Nights offered to the organisations: publish, list, allocate, give back."""


@nights_group.command("publish")
@click.option("--area", required=True, metavar="AREA", help="Area name or id.")
@click.option("--start", required=True, metavar='"YYYY-MM-DD HH:MM"', help="Local start time.")
@click.option("--end", required=True, metavar='"YYYY-MM-DD HH:MM"', help="Local end time.")
@click.option("--min", "min_walkers", type=int, help="Minimum walkers [walks.min_walkers].")
@click.option("--max", "max_walkers", type=int, help="Maximum walkers [walks.max_walkers].")
@click.option("--repeat", metavar="fri,sat", help="Repeat weekly on these days ...")
@click.option("--until", metavar="YYYY-MM-DD", help="... up to and including this date.")
@click.option("--fold", type=click.Choice(["earlier", "later"]),
              help="Which 02:00-03:00 to mean on the night the clocks go back "
                   "(default: the earlier).")
@json_option
@config_option
@with_context
async def nights_publish(ctx: Context, area: str, start: str, end: str, min_walkers: int | None,
                         max_walkers: int | None, repeat: str | None, until: str | None,
                         fold: str | None, as_json: bool) -> None:
    """Publish open nights (every lead is told); prints the new ids.

    \b
    Example:
      vandra nights publish --area Stortorget --start "2027-01-08 21:00" \\
          --end "2027-01-09 01:00" --repeat fri,sat --until 2027-03-27 --min 3
    """
    spec = NightSpec(
        area=area, start=parse_local_datetime(start), end=parse_local_datetime(end),
        min_walkers=min_walkers, max_walkers=max_walkers,
        repeat=parse_weekdays(repeat) if repeat else None,
        until=parse_date(until) if until else None,
        fold=cast(Literal["earlier", "later"] | None, fold),
    )
    made = await publish_nights(ctx, Actor.operator(), spec)
    if as_json:
        ids = {n.id for n in made}
        echo_json([night_json(v, ctx.zone) for v in await upcoming_nights(ctx) if v.id in ids])
    else:
        click.echo("\n".join(str(n.id) for n in made))


@nights_group.command("list")
@json_option
@config_option
@with_context
async def nights_list(ctx: Context, as_json: bool) -> None:
    """The nights not yet started: who holds each, who claimed it, who stands as reserve."""
    views = await upcoming_nights(ctx)
    if as_json:
        echo_json([night_json(v, ctx.zone) for v in views])
    elif not views:
        click.echo("no nights")
    else:
        click.echo(table(HEADERS, [_row(v, ctx.zone) for v in views]))


@nights_group.command("allocate")
@click.argument("night_id", type=ID)
@click.option("--org", "organisation", required=True, metavar="ORG", help="Name or id.")
@config_option
@with_context
async def nights_allocate(ctx: Context, night_id: int, organisation: str) -> None:
    """Give an open night to an organisation: it becomes that organisation's shift."""
    await claims.allocate_night(ctx, Actor.operator(), night_id, organisation)
    click.echo(f"night {night_id} allocated")


@nights_group.command("give-back")
@click.argument("night_id", type=ID)
@config_option
@with_context
async def nights_give_back(ctx: Context, night_id: int) -> None:
    """Take a night back from its holder: its shift is cancelled, the reserves are offered it."""
    await handover.give_back(ctx, Actor.operator(), night_id)
    click.echo(f"night {night_id} given back")


def night_json(view: NightView, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": view.id, "area": view.area,
        "start": view.start_at.astimezone(zone).isoformat(),
        "end": view.end_at.astimezone(zone).isoformat(),
        "min_walkers": view.min_walkers, "max_walkers": view.max_walkers,
        "status": view.status, "organisation": view.holder, "shift_id": view.shift_id,
        "claims": [name for _, name in view.claims],
        "reserves": [name for _, name in view.reserves],
    }


def _row(view: NightView, zone: ZoneInfo) -> list[object]:
    return [view.id, f"{view.start_at.astimezone(zone):%Y-%m-%d %H:%M}",
            f"{view.end_at.astimezone(zone):%H:%M}", view.area, view.min_walkers,
            view.holder or "-", ", ".join(n for _, n in view.claims),
            ", ".join(n for _, n in view.reserves)]
