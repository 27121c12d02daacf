"""The payment basis export under ``[payments] tiers``: each walk with the walkers counted,
the tier it earned and why (or why nothing), in words; per month and per season."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from evaluation.exports.tables import Cell, Column, Table, local_naive
from evaluation.payment_tiers import checked_in_within_hours, explanation, walkers_counted
from evaluation.payments import OrganisationMonth, PaymentBasis, PaymentLine
from scheduling.common.labels import Texts, yes_no

SUMMARY = [
    Column("organisation"),
    Column("month", width=10),
    Column("qualifying", "int"),
    Column("not_qualifying", "int"),
    Column("amount", "money"),
]
LINES = [
    Column("organisation"),
    Column("month", width=10),
    Column("shift_id", "int"),
    Column("start", "datetime"),
    Column("area"),
    Column("checked_in_in_hours", "int"),
    Column("walkers_counted", "int"),
    Column("reports", "int"),
    Column("qualifies", width=10),
    Column("tier", width=22),
    Column("amount", "money"),
    Column("payment_why", width=60),
]


def season_columns(with_money: bool) -> list[Column]:
    base = [
        Column("organisation"),
        Column("season", width=20),
        Column("qualifying", "int"),
        Column("not_qualifying", "int"),
    ]
    return [*base, Column("amount", "money")] if with_money else base


def season_rows(basis: PaymentBasis) -> list[list[Cell]]:
    return [
        [
            season.organisation,
            season.month,
            len(season.qualifying),
            len(season.not_qualifying),
            *([season.amount] if basis.with_amounts else []),
        ]
        for season in basis.seasons
    ]


def tiered_tables(basis: PaymentBasis, zone: ZoneInfo, texts: Texts) -> list[Table]:
    summary = Table("payments", list(SUMMARY))
    lines = Table("payment_walks", list(LINES))
    for month in basis.months:
        summary.rows.append(
            [
                month.organisation,
                month.month,
                len(month.qualifying),
                len(month.not_qualifying),
                month.amount,
            ]
        )
        lines.rows += [_line(basis, month, line, zone, texts) for line in month.lines]
    seasons = Table("payment_seasons", season_columns(True))
    seasons.rows = season_rows(basis)
    return [summary, lines, seasons]


def why(basis: PaymentBasis, line: PaymentLine, texts: Texts) -> str:
    """Why a walk earned its tier or nothing, in words."""
    return "; ".join(
        texts(key, **values) for key, values in explanation(line.walk, basis.tiers, line.reasons)
    )


def tier_label(line: PaymentLine, texts: Texts) -> str | None:
    if line.tier is None:
        return None
    return texts("coordinator.payment_tier", min=line.tier.min_walkers)


def _line(
    basis: PaymentBasis, month: OrganisationMonth, line: PaymentLine, zone: ZoneInfo, texts: Texts
) -> list[Cell]:
    walk = line.walk
    return [
        month.organisation,
        month.month,
        walk.shift_id,
        local_naive(walk.shift.start_at, zone),
        walk.view.area,
        checked_in_within_hours(walk),
        walkers_counted(walk),
        len(walk.reports),
        yes_no(texts, line.qualifies),
        tier_label(line, texts),
        line.tier_amount,
        why(basis, line, texts),
    ]
