"""Column helpers shared by the table modules."""

from __future__ import annotations

from typing import Any

from sqlmodel import Field
from sqlmodel.sql.sqltypes import UTCDateTime


def utc_field(*, nullable: bool = True, index: bool = False) -> Any:
    """A timezone-aware UTC datetime column."""
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)
