"""Column helpers shared by the table modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, text
from sqlmodel import Field
from sqlmodel.sql.sqltypes import UTCDateTime


def utc_field(*, nullable: bool = True, index: bool = False) -> Any:
    """A timezone-aware UTC datetime column."""
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def partial_index(
    name: str, column: str, where: str | None = None, postgresql: str | None = None
) -> Index:
    """An index of the rows ``where`` holds (by default: ``column IS NOT NULL``; PostgreSQL's
    spelling apart when it differs)."""
    where = where or f"{column} IS NOT NULL"
    return Index(name, column, sqlite_where=text(where), postgresql_where=text(postgresql or where))
