"""The shifts export: one row per shift, planned and as held."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from evaluation.exports.tables import Cell, Column, ExportRequest, Table, local_naive
from evaluation.measures import walker_hours
from evaluation.walk_facts import Walk, load_walks
from scheduling.common.context import Context
from scheduling.common.labels import Texts, label, yes_no

COLUMNS = [
    Column("shift_id", "int"),
    Column("date", "date"),
    Column("start", "datetime"),
    Column("end", "datetime"),
    Column("planned_hours", "decimal"),
    Column("organisation"),
    Column("area"),
    Column("meeting_point", width=24),
    Column("min_walkers", "int"),
    Column("max_walkers", "int"),
    Column("confirmed", "int"),
    Column("waitlisted", "int"),
    Column("trained", "int"),
    Column("staffing", width=14),
    Column("status", width=14),
    Column("held", width=10),
    Column("walkers_present", "int"),
    Column("walker_hours", "decimal"),
    Column("reports", "int"),
    Column("risk_night", width=10),
    Column("notes", width=40),
]


async def shifts(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    walks = await load_walks(ctx, request.first_day, request.last_day, organisation_id)
    table = Table("shifts", list(COLUMNS))
    for walk in walks:
        table.rows.append(_shift_row(walk, ctx.zone, texts))
    return [table]


def _shift_row(walk: Walk, zone: ZoneInfo, texts: Texts) -> list[Cell]:
    view, shift = walk.view, walk.shift
    return [
        walk.shift_id,
        shift.start_at.astimezone(zone).date(),
        local_naive(shift.start_at, zone),
        local_naive(shift.end_at, zone),
        round(walk.planned_duration.total_seconds() / 3600, 2),
        view.organisation,
        view.area,
        view.meeting_point,
        shift.min_walkers,
        shift.max_walkers,
        view.confirmed,
        view.waitlisted,
        view.trained,
        label(texts, "staffing", "cancelled" if walk.cancelled else view.staffing),
        label(texts, "status", view.status_at(walk.now)),
        yes_no(texts, walk.held),
        walk.walkers_present if walk.held else None,
        round(walker_hours([walk]), 2) if walk.held else None,
        len(walk.reports),
        yes_no(texts, shift.risk_night),
        shift.notes,
    ]
