"""``vandra places list|mark``: the places walkers reported, for the kommun's fault reporting
(an addition beside the contract's commands, docs/interface.md)."""

from __future__ import annotations

from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import click

from bot.cli.context import with_context
from bot.cli.errors import ID
from bot.cli.output import echo_json
from bot.cli.root import config_option
from bot.i18n import operator_language, t
from bot.presenters import iso_local, table
from evaluation.places import MARKS, PlaceItem, list_places, mark_place
from models.tables import PlaceStatus
from scheduling.common.context import Context
from scheduling.people.access import Actor

HEADERS = ["id", "area", "place", "kind", "reports", "first seen", "last seen", "status"]


def place_json(item: PlaceItem, zone: ZoneInfo, language: str) -> dict[str, Any]:
    """One place: codes (``kind``, ``status``) and their words (``kind_label``...)."""
    words = partial(t, language)
    return {
        "id": item.id,
        "area": item.area,
        "spot": item.spot or words("places.other_spot"),
        "kind": item.kind,
        "kind_label": words(f"coordinator.place.{item.kind}"),
        "status": item.status,
        "status_label": words(f"coordinator.place_status.{item.status}"),
        "reports": item.reports,
        "first_seen": iso_local(item.first_seen_at, zone),
        "last_seen": iso_local(item.last_seen_at, zone),
        "status_changed": iso_local(item.status_at, zone),
    }


def place_row(item: PlaceItem, zone: ZoneInfo, language: str) -> list[object]:
    shown = place_json(item, zone, language)
    return [
        item.id, item.area, shown["spot"], shown["kind_label"], item.reports,
        f"{item.first_seen_at.astimezone(zone):%Y-%m-%d}",
        f"{item.last_seen_at.astimezone(zone):%Y-%m-%d}", shown["status_label"],
    ]


@click.group("places")
def places_group() -> None:
    """Places walkers reported (broken lights, damage, litter, unsafe spots)."""


@places_group.command("list")
@click.option("--status", type=click.Choice(PlaceStatus.ALL), help="Only places in this state.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@config_option
@with_context
async def places_list(ctx: Context, status: str | None, as_json: bool) -> None:
    """List places, open ones first, then the most recently seen.

    \b
    Examples:
      vandra places list --status open
      vandra places list --json
    """
    items = await list_places(ctx, Actor.operator(), status)
    language = operator_language()
    if as_json:
        echo_json([place_json(item, ctx.zone, language) for item in items])
    elif not items:
        click.echo(t(language, "coordinator.dash.places_none"))
    else:
        click.echo(table(HEADERS, [place_row(item, ctx.zone, language) for item in items]))


@places_group.command("mark")
@click.argument("place_id", metavar="ID", type=ID)
@click.argument("status", type=click.Choice(MARKS))
@config_option
@with_context
async def places_mark(ctx: Context, place_id: int, status: str) -> None:
    """Mark a place reported (to the kommun's fault reporting), fixed or dismissed.

    \b
    Example:
      vandra places mark 12 reported
    """
    place = await mark_place(ctx, Actor.operator(), place_id, status)
    click.echo(f"place {place.id}: {place.status}")
