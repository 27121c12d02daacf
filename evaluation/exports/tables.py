"""The shape of an export: the request, typed columns and tables of real cell values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

KINDS = ("reports", "shifts", "signups", "stats", "payments", "places")
Kind = Literal["reports", "shifts", "signups", "stats", "payments", "places"]
ColumnKind = Literal["text", "int", "decimal", "money", "percent", "date", "datetime"]
Cell = str | int | float | Decimal | date | datetime | None
WIDTHS: dict[str, int] = {"int": 10, "decimal": 12, "money": 14, "percent": 12, "date": 12}


@dataclass(frozen=True)
class ExportRequest:
    kind: Kind
    first_day: date
    last_day: date
    with_contacts: bool = False


@dataclass(frozen=True)
class Column:
    key: str  # catalogue key under coordinator.col.
    kind: ColumnKind = "text"
    width: int | None = None

    @property
    def display_width(self) -> int:
        return self.width or WIDTHS.get(self.kind, 18 if self.kind == "datetime" else 20)


@dataclass
class Table:
    """One sheet: a title, typed columns and rows of real values."""

    name: str  # catalogue key under coordinator.sheet.
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)


def local_naive(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Local wall time without a zone: what a spreadsheet cell holds."""
    return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)
