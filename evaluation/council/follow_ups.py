"""Follow-ups asked for: submitted reports marked "coordinator follow-up needed", on the
shifts starting in the period (as every statistic counts a walk by its start).

When the follow-up queue tracks each one (open, in progress, handled), its states belong
here too; until then the flag on the report is what there is to count.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import col, select

from evaluation.walk_facts import REPORT_SUBMITTED, day_range
from models.tables import Report, Shift
from scheduling.common.context import Context


async def follow_ups_asked(
    ctx: Context, first_day: date, last_day: date, organisation_id: int | None
) -> int:
    """Submitted reports asking the coordinator to follow up, in the period."""
    start, before = day_range(ctx, first_day, last_day)
    query = (
        select(func.count())
        .select_from(Report)
        .join(Shift, col(Shift.id) == col(Report.shift_id))
        .where(
            col(Report.status) == REPORT_SUBMITTED,
            col(Report.follow_up).is_(True),
            col(Shift.start_at) >= start,
            col(Shift.start_at) < before,
        )
    )
    if organisation_id is not None:
        query = query.where(col(Shift.organisation_id) == organisation_id)
    async with ctx.store.transaction() as session:
        return int((await session.exec(query)).one())
