"""``vandra report``: the evaluation report for the crime-prevention council, PDF or HTML."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from bot.cli.context import with_context
from bot.cli.errors import BadInput
from bot.cli.out_file import checked_out, write_out
from bot.cli.root import config_option
from bot.i18n import t
from evaluation import council
from scheduling.common.context import Context
from scheduling.common.localtime import parse_date
from scheduling.people.access import Actor


def chosen_format(fmt: str | None, out: str) -> str:
    """--format, else the --out file's suffix (``.htm`` counts as HTML)."""
    if fmt:
        return fmt
    suffix = Path(out).suffix.lower().lstrip(".")
    suffix = {"htm": "html"}.get(suffix, suffix)
    if suffix in council.FORMATS:
        return suffix
    raise BadInput("report: give --format pdf|html (or an --out name ending in .pdf or .html)")


@click.command("report")
@click.option("--from", "first_day", required=True, metavar="DATE", help="First local day.")
@click.option("--to", "last_day", required=True, metavar="DATE", help="Last local day, included.")
@click.option(
    "--format", "fmt", type=click.Choice(council.FORMATS), help="File format [from --out]."
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option(
    "--lang",
    "language",
    type=click.Choice(["sv", "en"]),
    default="sv",
    show_default=True,
    help="Language of the report.",
)
@config_option
@with_context
async def report_command(
    ctx: Context, first_day: str, last_day: str, fmt: str | None, out: str, language: str
) -> None:
    """Write the evaluation report for the crime-prevention council (BRÅ) as PDF or HTML.

    The period's walks against the period of equal length just before it, with charts:
    walks per week, walker-hours per organisation, cover of Friday and Saturday nights and
    risk nights, young people met, mood and incidents per area and time band, places
    flagged, alarms and follow-ups. The HTML file is self-contained (no external resources).

    \b
    Example:  vandra report --from 2026-11-01 --to 2026-11-30 --format pdf --out rapport.pdf
    """
    file_format = chosen_format(fmt, out)
    path = checked_out("report", out)
    first, last = parse_date(first_day), parse_date(last_day)
    texts = partial(t, language)
    body = await council.council_report(
        ctx, Actor.operator(), first, last, file_format, language, texts
    )
    await write_out(path, body)
    click.echo(f"{out}: {file_format.upper()}, {len(body)} bytes")
