"""``vandra export KIND``: the coordinator's files (reports, shifts, sign-ups, stats, payments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import click

from bot.cli.context import with_context
from bot.cli.errors import BadInput
from bot.cli.out_file import checked_out, write_out
from bot.cli.root import config_option
from bot.i18n import t
from evaluation import exports
from scheduling.common.context import Context
from scheduling.common.localtime import parse_date
from scheduling.people.access import Actor


def swedish(key: str, /, **params: Any) -> str:
    """Exports have Swedish headers, whoever runs them."""
    return t("sv", key, **params)


def chosen_format(fmt: str | None, out: str) -> str:
    """--format, else the --out file's suffix."""
    if fmt:
        return fmt
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix in exports.FORMATS:
        return suffix
    raise BadInput("export: give --format csv|xlsx (or an --out name ending in .csv or .xlsx)")


@click.command("export")
@click.argument("kind", type=click.Choice(exports.KINDS))
@click.option("--from", "first_day", required=True, metavar="DATE", help="First local day.")
@click.option("--to", "last_day", required=True, metavar="DATE", help="Last local day, included.")
@click.option(
    "--format", "fmt", type=click.Choice(exports.FORMATS), help="File format [from --out]."
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write.")
@click.option(
    "--with-contacts", is_flag=True, help="Include phone numbers and Telegram ids (audited)."
)
@config_option
@with_context
async def export_command(
    ctx: Context,
    kind: str,
    first_day: str,
    last_day: str,
    fmt: str | None,
    out: str,
    with_contacts: bool,
) -> None:
    """Write reports, shifts, sign-ups, statistics or the payment basis to an XLSX or CSV file.

    XLSX has one sheet per table, Swedish headers, real dates and numbers; CSV is UTF-8 with a
    BOM and ';' between fields, as Swedish Excel expects. Times are local.

    \b
    Example:  vandra export stats --from 2026-11-01 --to 2026-11-30 --out november.xlsx
    """
    file_format = chosen_format(fmt, out)
    path = checked_out("export", out)
    request = exports.ExportRequest(
        kind=cast(exports.Kind, kind),
        first_day=parse_date(first_day),
        last_day=parse_date(last_day),
        with_contacts=with_contacts,
    )
    tables = await exports.build_export(ctx, Actor.operator(), request, swedish)
    data = exports.render(tables, swedish, file_format)
    await write_out(path, data)
    rows = sum(len(table.rows) for table in tables)
    click.echo(f"{out}: {kind}, {rows} rows")
