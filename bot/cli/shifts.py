"""``vandra shifts add|list|cancel``: walk shifts, once or weekly, with their staffing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast

import click

from bot.cli.context import with_context
from bot.cli.output import echo_json, json_option
from bot.cli.root import config_option
from bot.presenters import SHIFT_HEADERS, shift_json, shift_rows, table
from models.tables import Shift
from scheduling.common.context import Context
from scheduling.common.localtime import parse_date, parse_local_datetime
from scheduling.people.access import Actor
from scheduling.walks import shifts


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
    help="Which 02:00-03:00 to mean on the night the clocks go back (default: the earlier).",
)
@click.option("--force", is_flag=True, help="Add even where a shift has the same area and start.")
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
    force: bool,
    as_json: bool,
) -> None:
    """Add a shift, or a weekly series; times are local (Europe/Stockholm). Prints the ids.

    Past dates are accepted here, to record walks that already happened. A shift at the start
    and area of one not cancelled is refused (a series skips it, on stderr) unless --force.

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
    await _echo_created(ctx, await _create(ctx, spec, repeat, until, force), as_json)


async def _create(
    ctx: Context, spec: shifts.ShiftSpec, repeat: str | None, until: str | None, force: bool
) -> shifts.Created:
    """The shift of ``spec``, or its weekly series; past dates allowed."""
    return await shifts.add_shifts(
        ctx,
        Actor.operator(),
        spec,
        repeat=shifts.parse_weekdays(repeat) if repeat else None,
        until=parse_date(until) if until else None,
        allow_past=True,
        force=force,
    )


async def _echo_created(ctx: Context, made: shifts.Created, as_json: bool) -> None:
    """The new ids one a line, or with ``--json`` the new shift objects; on stderr the
    existing shifts whose dates a series skipped."""
    if made.skipped:
        skipped = ", ".join(str(i) for i in made.skipped)
        click.echo(f"dates skipped, a shift is there already: {skipped}", err=True)
    created: Sequence[Shift] = made.shifts
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
