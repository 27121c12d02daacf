"""A report marked "needs follow-up" becomes a queue row, and its coordinators and leads are
told through the outbox (``Kind.FOLLOW_UP_OPENED``), once: the row is unique per report and
each message has its own dedupe key, so the dialogue (at once, after the report) and the tick
(a safety net, should that have failed) can both ask."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import FollowUp, FollowUpStatus, Report, Shift
from scheduling.common.context import Context
from scheduling.messages.due_planning import plan
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.walks.audience import managers

LOOKBACK = timedelta(days=14)  # the tick looks for flagged reports of walks this recent
SUBMITTED = "submitted"


async def open_follow_ups(ctx: Context, report_id: int | None = None) -> int:
    """Queue every flagged report without a follow-up (only ``report_id`` when given); how
    many follow-ups were opened."""
    now = ctx.now()
    opened = 0
    async with ctx.store.transaction() as session:
        messages: list[NewMessage] = []
        for report, shift_id, organisation_id in await _flagged(session, report_id, now):
            follow_up_id = await _insert(session, report, shift_id, organisation_id, now)
            if follow_up_id is None:
                continue  # another process opened it first
            opened += 1
            for person_id in await managers(session, organisation_id):
                messages.append(_notice(ctx, now, follow_up_id, shift_id, person_id))
        await enqueue_many(session, messages, now)
    return opened


async def _flagged(
    session: AsyncSession, report_id: int | None, now: datetime
) -> list[tuple[int, int, int]]:
    statement = (
        select(Report.id, Report.shift_id, Shift.organisation_id)
        .join(Shift, col(Shift.id) == col(Report.shift_id))
        .where(
            col(Report.status) == SUBMITTED,
            col(Report.follow_up).is_(True),
            ~exists().where(col(FollowUp.report_id) == col(Report.id)),
        )
    )
    if report_id is not None:
        statement = statement.where(col(Report.id) == report_id)
    else:
        # walks begun in the last LOOKBACK (only a begun walk has reports): a few hundred
        # shifts, found first by their start, then their reports by the report's shift index
        recent = await session.exec(select(Shift.id).where(
            col(Shift.start_at) > now - LOOKBACK, col(Shift.start_at) <= now
        ))
        statement = statement.where(col(Report.shift_id).in_(list(recent.all())))
    rows = await session.exec(statement.order_by(col(Report.id)))
    return [(r or 0, s, o) for r, s, o in rows.all()]


async def _insert(
    session: AsyncSession, report_id: int, shift_id: int, organisation_id: int, now: datetime
) -> int | None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(FollowUp)
        .values(report_id=report_id, shift_id=shift_id, organisation_id=organisation_id,
                status=FollowUpStatus.OPEN, opened_at=now)
        .on_conflict_do_nothing(index_elements=["report_id"])
        .returning(col(FollowUp.id))
    )
    row = (await session.exec(statement)).first()
    return None if row is None else int(row[0])


def _notice(
    ctx: Context, now: datetime, follow_up_id: int, shift_id: int, person_id: int
) -> NewMessage:
    """Not urgent: held through quiet hours like any other notice (112 is for emergencies)."""
    return plan(
        ctx,
        now,
        key=f"followup:{follow_up_id}:opened:person:{person_id}",
        kind=Kind.FOLLOW_UP_OPENED,
        person_id=person_id,
        moment=now,
        expires_at=None,
        shift_start=None,
        payload={"follow_up_id": follow_up_id, "shift_id": shift_id},
    )
