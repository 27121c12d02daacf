"""The payment basis export: a summary per organisation and month, every walk with why it is
(not) paid, and a summary per organisation and season."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from evaluation.exports.payment_tiers import season_columns, season_rows, tiered_tables
from evaluation.exports.tables import Cell, Column, ExportRequest, Table, local_naive
from evaluation.payments import OrganisationMonth, PaymentBasis, PaymentLine, payment_basis_for
from scheduling.common.context import Context
from scheduling.common.labels import Texts, label, yes_no

SUMMARY_COLUMNS = [
    Column("organisation"),
    Column("month", width=10),
    Column("qualifying", "int"),
    Column("not_qualifying", "int"),
]
MONEY_COLUMNS = [Column("rate", "money"), Column("amount", "money")]
LINE_COLUMNS = [
    Column("organisation"),
    Column("month", width=10),
    Column("shift_id", "int"),
    Column("start", "datetime"),
    Column("area"),
    Column("walkers_present", "int"),
    Column("min_walkers", "int"),
    Column("reports", "int"),
    Column("qualifies", width=10),
    Column("reasons", width=50),
]


async def payments_export(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    basis = await payment_basis_for(ctx, request.first_day, request.last_day, organisation_id)
    return payment_tables(basis, ctx.zone, texts)


def payment_tables(basis: PaymentBasis, zone: ZoneInfo, texts: Texts) -> list[Table]:
    """Per organisation and month, every walk with its reasons, per organisation and season."""
    if basis.tiers:
        return tiered_tables(basis, zone, texts)
    with_money = basis.rate is not None
    summary = Table("payments", [*SUMMARY_COLUMNS, *(MONEY_COLUMNS if with_money else [])])
    lines = Table("payment_walks", list(LINE_COLUMNS))
    for month in basis.months:
        amounts: list[Cell] = [basis.rate, month.amount] if with_money else []
        summary.rows.append(
            [
                month.organisation,
                month.month,
                len(month.qualifying),
                len(month.not_qualifying),
                *amounts,
            ]
        )
        lines.rows += [_payment_line(month, line, zone, texts) for line in month.lines]
    seasons = Table("payment_seasons", season_columns(with_money))
    seasons.rows = season_rows(basis)
    return [summary, lines, seasons]


def _payment_line(
    month: OrganisationMonth, line: PaymentLine, zone: ZoneInfo, texts: Texts
) -> list[Cell]:
    walk = line.walk
    return [
        month.organisation,
        month.month,
        walk.shift_id,
        local_naive(walk.shift.start_at, zone),
        walk.view.area,
        walk.walkers_present,
        walk.shift.min_walkers,
        len(walk.reports),
        yes_no(texts, line.qualifies),
        ", ".join(label(texts, "reason", r) or r for r in line.reasons),
    ]
