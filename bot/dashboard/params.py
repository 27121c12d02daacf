"""What a page reads from its query string, and the date ranges it falls back on."""

from __future__ import annotations

from datetime import date, timedelta

from starlette.requests import Request

from scheduling.common.errors import InvalidInput, NotFound
from scheduling.common.localtime import parse_date, usable_day
from scheduling.common.text import LARGEST_ID, small_number


def date_param(request: Request, name: str, default: date) -> date:
    """A ``YYYY-MM-DD`` query parameter between ``FIRST_DAY`` and ``LAST_DAY``, or the
    default when absent or empty."""
    value = request.query_params.get(name, "").strip()
    return within_bounds(parse_date(value)) if value else default


def within_bounds(day: date) -> date:
    """The day, if pages and statistics can use it (else a 400 saying which days can)."""
    return usable_day(day)


def path_id(request: Request, kind: str, name: str = "id") -> int:
    """An id from the path: one beyond the databases' integers names nothing (404)."""
    value = int(request.path_params[name])
    if not 0 < value <= LARGEST_ID:
        raise NotFound(kind, value)
    return value


def int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    number = small_number(value)
    if number is None:
        raise InvalidInput("bad_number", field=name, text=value[:20])
    return number


def default_range(today: date) -> tuple[date, date]:
    """From the first day of the month two months back to the end of this month."""
    first = (today.replace(day=1) - timedelta(days=40)).replace(day=1)
    following = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def month_range(text: str | None, fallback: date) -> tuple[date, date]:
    """``YYYY-MM`` as its first and last day (the fallback's month when empty)."""
    try:
        first = date.fromisoformat(f"{text.strip()}-01") if text else fallback.replace(day=1)
    except ValueError:
        raise InvalidInput("bad_date", text=text) from None
    within_bounds(first)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)
