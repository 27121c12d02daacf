"""The places export: every place seen in the range, for the kommun's fault reporting."""

from __future__ import annotations

from evaluation.exports.tables import Cell, Column, ExportRequest, Table, local_naive
from evaluation.places.listing import PlaceItem, place_items
from evaluation.walk_facts import day_range
from scheduling.common.context import Context
from scheduling.common.labels import Texts, label

COLUMNS = [
    Column("place_id", "int"),
    Column("area"),
    Column("place", width=36),
    Column("category", width=22),
    Column("first_seen", "datetime"),
    Column("last_seen", "datetime"),
    Column("report_count", "int"),
    Column("place_status", width=26),
    Column("status_changed", "datetime"),
]


async def places_export(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    """Places seen in the range (first seen before its end, last seen after its start); for
    a lead, those their organisation's walkers reported."""
    start, before = day_range(ctx, request.first_day, request.last_day)
    async with ctx.store.joined() as session:
        items = await place_items(
            session, seen_from=start, seen_before=before, organisation_id=organisation_id
        )
    table = Table("place_list", list(COLUMNS))
    table.rows = [_row(ctx, item, texts) for item in items]
    return [table]


def _row(ctx: Context, item: PlaceItem, texts: Texts) -> list[Cell]:
    return [
        item.id,
        item.area,
        item.spot or texts("places.other_spot"),
        label(texts, "place", item.kind),
        local_naive(item.first_seen_at, ctx.zone),
        local_naive(item.last_seen_at, ctx.zone),
        item.reports,
        label(texts, "place_status", item.status),
        local_naive(item.status_at, ctx.zone),
    ]
