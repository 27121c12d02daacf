"""``vandra shifts edit|cancel``: change a planned shift, or cancel one, a series or a range."""

from __future__ import annotations

from typing import Literal, cast

import click

from bot.cli.context import with_context
from bot.cli.errors import ID, BadInput
from bot.cli.output import echo_json, json_option
from bot.cli.root import config_option
from bot.cli.shifts import shifts_group
from bot.presenters import shift_json
from scheduling.common.context import Context
from scheduling.common.localtime import parse_date, parse_local_datetime
from scheduling.people.access import Actor
from scheduling.walks import shifts
from scheduling.walks.bulk_cancel import Selection, cancel_many
from scheduling.walks.editing import ShiftChange, edit_shift


@shifts_group.command("edit")
@click.argument("shift_id", type=ID)
@click.option("--start", metavar='"YYYY-MM-DD HH:MM"', help="New local start time.")
@click.option("--end", metavar='"YYYY-MM-DD HH:MM"', help="New local end time.")
@click.option("--area", metavar="AREA", help="New area (name or id).")
@click.option("--meeting-point", metavar="TEXT", help='New meeting point ("" = the area\'s).')
@click.option("--min", "min_walkers", type=int, help="New minimum walkers.")
@click.option("--max", "max_walkers", type=int, help="New maximum (not below those signed up).")
@click.option(
    "--fold",
    type=click.Choice(["earlier", "later"]),
    help="Which 02:00-03:00 to mean on the night the clocks go back (default: the earlier).",
)
@json_option
@config_option
@with_context
async def shifts_edit(
    ctx: Context,
    shift_id: int,
    start: str | None,
    end: str | None,
    area: str | None,
    meeting_point: str | None,
    min_walkers: int | None,
    max_walkers: int | None,
    fold: str | None,
    as_json: bool,
) -> None:
    """Move a planned shift or change its area, meeting point or walker counts; everyone
    signed up is told what changed. Prints the shift's id (with --json, the shift).

    \b
    Example:  vandra shifts edit 12 --start "2026-11-27 22:00" --end "2026-11-28 02:00"
    """
    change = ShiftChange(
        start=parse_local_datetime(start) if start else None,
        end=parse_local_datetime(end) if end else None,
        area=area,
        meeting_point=meeting_point,
        min_walkers=min_walkers,
        max_walkers=max_walkers,
        fold=cast(Literal["earlier", "later"] | None, fold),
    )
    await edit_shift(ctx, Actor.operator(), shift_id, change)
    if as_json:
        async with ctx.store.transaction() as session:
            view = await shifts.get_shift_view(session, ctx, shift_id)
        echo_json([shift_json(view, ctx.zone, ctx.now())])
    else:
        click.echo(str(shift_id))


@shifts_group.command("cancel")
@click.argument("shift_id", type=ID, required=False)
@click.option("--series", "series_id", type=ID, metavar="ID", help="Every shift of a series.")
@click.option("--from", "first_day", metavar="DATE", help="First local day (YYYY-MM-DD).")
@click.option("--to", "last_day", metavar="DATE", help="Last local day, included.")
@click.option("--org", "organisation", metavar="ORG", help="Only this organisation's.")
@click.option("--area", metavar="AREA", help="Only this area's.")
@click.option("--reason", metavar="TEXT", help="Told to everyone signed up.")
@config_option
@with_context
async def shifts_cancel(
    ctx: Context,
    shift_id: int | None,
    series_id: int | None,
    first_day: str | None,
    last_day: str | None,
    organisation: str | None,
    area: str | None,
    reason: str | None,
) -> None:
    """Cancel a shift, a series or the planned shifts of a date range; everyone signed up
    to each is told once. Shifts already begun are left alone.

    \b
    Examples:
      vandra shifts cancel 12 --reason "Storm warning"
      vandra shifts cancel --series 3
      vandra shifts cancel --from 2026-12-21 --to 2027-01-06 --org "IFK Kalmar"
    """
    ranged = first_day is not None or last_day is not None
    if shift_id is not None:
        if series_id is not None or ranged or organisation or area:
            raise BadInput("give a shift id, or --series, or --from and --to, not several")
        await shifts.cancel_shift(ctx, Actor.operator(), shift_id, reason)
        click.echo(f"shift {shift_id} cancelled")
        return
    if series_id is not None and ranged:
        raise BadInput("give --series or --from and --to, not both")
    if series_id is None and (first_day is None or last_day is None):
        raise BadInput("give a shift id, --series ID, or both --from and --to")
    selection = Selection(
        series_id=series_id,
        first_day=parse_date(first_day) if first_day else None,
        last_day=parse_date(last_day) if last_day else None,
        organisation=organisation,
        area=area,
    )
    cancelled = await cancel_many(ctx, Actor.operator(), selection, reason)
    noun = "shift" if len(cancelled) == 1 else "shifts"
    click.echo(f"{len(cancelled)} {noun} cancelled: {', '.join(str(i) for i in cancelled)}")
