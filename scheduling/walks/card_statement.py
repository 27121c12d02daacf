"""A shift card in one statement: the shift's view, the viewer's own sign-up and the group lead.

The group lead is chosen in SQL as ``group_lead.group_lead`` chooses it in Python: among the
walkers confirmed on the shift (not erased), the one named (``shift.group_lead_id``), else the
trained walker who signed up first. One round trip to the database instead of two for the
card a deep link or a button shows (``tests/test_card_statement.py`` holds the two to the same
answer).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models import thin
from models.tables import Person, Shift, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.walks.group_lead import GroupLead
from scheduling.walks.view_statements import ONE_VIEW_WITH_SIGNUP, VIEW_COLUMNS
from scheduling.walks.views import ShiftView, _views

_WALKER = aliased(Person, name="walker")
_SEAT = aliased(Signup, name="seat")


def _walker(column: Any, *, named: bool) -> Any:
    """``column`` of the named group lead if still confirmed on the shift (``named``), else of
    the first trained walker confirmed on it: a correlated subquery on the shift. (SQLite
    takes no outer column in a subquery's ORDER BY, so the two are asked apart.)"""
    chosen = (
        col(_WALKER.id) == col(Shift.group_lead_id) if named else col(_WALKER.trained).is_(True)
    )
    return (
        sa_select(column)
        .join(_SEAT, col(_SEAT.person_id) == col(_WALKER.id))
        .where(
            col(_SEAT.shift_id) == col(Shift.id),
            col(_SEAT.status) == SignupStatus.CONFIRMED,
            col(_WALKER.erased_at).is_(None),
            chosen,
        )
        .order_by(col(_SEAT.queued_at), col(_SEAT.id))
        .limit(1)
        .correlate(Shift)
        .scalar_subquery()
    )


def _lead(column: Any) -> Any:
    return func.coalesce(_walker(column, named=True), _walker(column, named=False))


ONE_CARD = ONE_VIEW_WITH_SIGNUP.add_columns(_lead(col(_WALKER.id)), _lead(col(_WALKER.name)))


async def card_view(
    session: AsyncSession, ctx: Context, shift_id: int, person_id: int
) -> tuple[ShiftView, Signup | None, GroupLead | None]:
    """One shift's view, the person's own sign-up to it (of any status) and its group lead."""
    params = {"shift_id": shift_id, "person_id": person_id}
    found = await thin.objects(session, ONE_CARD, params)
    row = found[0] if found else None
    if row is None:
        raise NotFound("shift", shift_id)
    view = _views(ctx, [row[:VIEW_COLUMNS]])[0]
    lead_id, lead_name = row[VIEW_COLUMNS + 1], row[VIEW_COLUMNS + 2]
    if lead_id is None:
        return view, row[VIEW_COLUMNS], None
    lead = GroupLead(lead_id, lead_name, proposed=lead_id != view.shift.group_lead_id)
    return view, row[VIEW_COLUMNS], lead
