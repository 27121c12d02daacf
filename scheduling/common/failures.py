"""Failures of the store as the outer layers need to tell them apart, without the driver."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError


def store_failed(error: BaseException) -> bool:
    """The database failed a statement: the transaction around it may be unusable."""
    return isinstance(error, DBAPIError)


def connection_lost(error: BaseException) -> bool:
    """The database connection dropped: on a new one the work may be tried again."""
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def cause(error: BaseException) -> str:
    """The driver's name for the failure (``OperationalError``), for the log."""
    return type(getattr(error, "orig", None) or error).__name__
