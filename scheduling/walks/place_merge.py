"""Place issues from a submitted report become places (models/place_tables.py), merged.

A place is the shift's area, a spot (a configured place or a walker's own words) and a kind.
While a place is open (``open`` or ``reported``), another report naming the same area, spot
and kind — the spot compared case-, accent-form- and punctuation-blind — counts on the same
row: one more report, last seen moved. Both are decided by the database, so two reports
submitted at once on two workers still make one place with a count of two:

1. ``INSERT ... ON CONFLICT (open_key) DO UPDATE`` makes the open place or finds it (and
   locks it on PostgreSQL), returning its id: the unique ``open_key`` admits one open row.
2. ``INSERT`` of (place, report) ``ON CONFLICT DO NOTHING``: a report counts once per place,
   however often it is corrected and submitted again.
3. Only when that row is new: ``reports = reports + 1`` and the seen times widened, computed
   by the database from the row as it stands, never from a value read earlier.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, update
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Place, PlaceReport, PlaceStatus, Report, Shift

_NOT_WORD = re.compile(r"[\W_]+")


def spot_key(spot: str) -> str:
    """A spot as compared: NFKC, case-folded, punctuation and runs of space as one space."""
    folded = unicodedata.normalize("NFKC", spot).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def open_key(area_id: int, spot: str, kind: str) -> str:
    return f"{area_id}|{kind}|{spot_key(spot)}"[:200]


OTHER_PLACE = "other"


def issue_spot(issue: dict[str, str]) -> str:
    """The spot a report's place issue names: a configured place, or the walker's words for
    another place ("" when they gave none: shown as "another place")."""
    place = issue.get("place") or ""
    spot = issue.get("spot") if place == OTHER_PLACE else place
    return (spot or "").strip()[:120]


async def record_places(session: AsyncSession, report: Report, shift: Shift) -> None:
    """Merge each place issue of a submitted report into the open places."""
    for issue in report.place_issues:
        spot = issue_spot(issue)
        if issue.get("category") and report.id is not None:
            place_id = await _open_place(session, shift, spot, issue["category"], report)
            await _count_report(session, place_id, report.id or 0, shift.start_at)


async def _open_place(
    session: AsyncSession, shift: Shift, spot: str, kind: str, report: Report
) -> int:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    key = open_key(shift.area_id, spot, kind)
    statement = insert(Place).values(
        area_id=shift.area_id,
        spot=spot,
        kind=kind,
        status=PlaceStatus.OPEN,
        open_key=key,
        reports=0,
        first_seen_at=shift.start_at,
        last_seen_at=shift.start_at,
        created_at=report.submitted_at or shift.start_at,
    )
    upsert = statement.on_conflict_do_update(
        index_elements=["open_key"], set_={"open_key": statement.excluded.open_key}
    ).returning(col(Place.id))
    return int((await session.exec(upsert)).one()[0])


async def _count_report(
    session: AsyncSession, place_id: int, report_id: int, seen: datetime
) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(PlaceReport)
        .values(place_id=place_id, report_id=report_id)
        .on_conflict_do_nothing(index_elements=["place_id", "report_id"])
        .returning(col(PlaceReport.id))
    )
    if (await session.exec(statement)).first() is None:
        return  # this report was counted for this place before
    await session.exec(
        update(Place)
        .where(col(Place.id) == place_id)
        .values(
            reports=col(Place.reports) + 1,
            last_seen_at=case((col(Place.last_seen_at) < seen, seen), else_=Place.last_seen_at),
            first_seen_at=case(
                (col(Place.first_seen_at) > seen, seen), else_=Place.first_seen_at
            ),
        )
    )
