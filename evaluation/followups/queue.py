"""The follow-up queue as staff read it: the coordinator every organisation's, a lead only
their own (``organisation_scope``; anyone else is refused, audited). A view holds the walk, the
report's fixed answers and its masked summary, the status, who changed it and when, and the
note: nothing that names or describes a young person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col

from models.tables import Area, FollowUp, FollowUpStatus, Organisation, Person, Report, Shift
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.people.access import Actor, require_manager
from scheduling.people.scope import organisation_scope

WAITING = (FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS)
LISTED = 50  # the newest this many, in chat and on the page


@dataclass(frozen=True)
class FollowUpView:
    id: int
    report_id: int
    status: str
    opened_at: datetime
    changed_at: datetime | None
    changed_by: str | None  # the staff member's name
    note: str | None
    shift_id: int
    start_at: datetime
    end_at: datetime
    area: str
    organisation: str
    organisation_id: int
    mood: str | None
    youth_met: str | None
    felt_safe: str | None
    help_given: tuple[str, ...]
    services: tuple[str, ...]
    summary: str | None  # the report's own summary, masked when it was stored


_CHANGER = aliased(Person)


def _statement() -> Any:
    return (
        sa_select(  # type: ignore[call-overload]  # six entities: beyond the typed overloads
            FollowUp, Report, Shift, col(Area.name), col(Organisation.name), _CHANGER.name
        )
        .join(Report, col(Report.id) == col(FollowUp.report_id))
        .join(Shift, col(Shift.id) == col(FollowUp.shift_id))
        .join(Area, col(Area.id) == col(Shift.area_id))
        .join(Organisation, col(Organisation.id) == col(FollowUp.organisation_id))
        .outerjoin(_CHANGER, col(_CHANGER.id) == col(FollowUp.changed_by))
    )


def _view(row: Any) -> FollowUpView:
    follow_up, report, shift, area, organisation, changer = row
    return FollowUpView(
        id=follow_up.id or 0, report_id=report.id or 0, status=follow_up.status,
        opened_at=follow_up.opened_at, changed_at=follow_up.changed_at, changed_by=changer,
        note=follow_up.note, shift_id=shift.id or 0, start_at=shift.start_at,
        end_at=shift.end_at, area=area, organisation=organisation,
        organisation_id=follow_up.organisation_id, mood=report.mood, youth_met=report.youth_met,
        felt_safe=report.felt_safe, help_given=tuple(report.help_given or ()),
        services=tuple(report.services_contacted or ()), summary=report.summary,
    )


async def list_follow_ups(
    ctx: Context, actor: Actor, statuses: Sequence[str] = WAITING
) -> list[FollowUpView]:
    """The follow-ups the actor may see in these statuses, oldest first (the newest
    ``LISTED``)."""
    organisation_id = await organisation_scope(ctx, actor, "followups.view")
    statement = _statement().where(col(FollowUp.status).in_(list(statuses)))
    if organisation_id is not None:
        statement = statement.where(col(FollowUp.organisation_id) == organisation_id)
    statement = statement.order_by(col(FollowUp.opened_at).desc(), col(FollowUp.id).desc())
    async with ctx.store.transaction() as session:
        rows = (await session.exec(statement.limit(LISTED))).all()
    return [_view(row) for row in reversed(rows)]


async def get_follow_up(ctx: Context, actor: Actor, follow_up_id: int) -> FollowUpView:
    """One follow-up, if the actor manages its organisation (else refused, audited)."""
    async with ctx.store.transaction() as session:
        row = (await session.exec(_statement().where(col(FollowUp.id) == follow_up_id))).first()
    if row is None:
        await organisation_scope(ctx, actor, "followups.view")  # a volunteer learns nothing
        raise NotFound("follow_up", follow_up_id)
    view = _view(row)
    await require_manager(ctx.store, actor, "followups.view", view.organisation_id, ctx.now(),
                          target=f"follow_up:{follow_up_id}")
    return view
