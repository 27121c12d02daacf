"""A person's right to their data: everything stored about them, gathered (docs/privacy.md).

``export_my_data`` gathers it as JSON-ready data (for ``/mina_data`` and ``MINA DATA``). The
retention rules (``[privacy]``) are in retention; erasure in erasure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import (
    Alarm,
    AuditEntry,
    Conversation,
    Organisation,
    OutboxMessage,
    Person,
    Report,
    ShiftStatus,
    Signup,
    SignupStatus,
)
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.people.access import Actor, audit, require_coordinator
from scheduling.people.directory import get_person
from scheduling.people.export_format import (
    PROFILE_FIELDS,
    action_entry,
    alarm_entry,
    check_in_entry,
    iso,
    message_entry,
    plain,
    plain_value,
    signup_entry,
)
from scheduling.walks.views import ShiftView, shift_views


async def export_my_data(ctx: Context, person_id: int) -> dict[str, Any]:
    """Everything stored about one person, as JSON-serialisable data (times in local ISO 8601).

    Messages appear by kind and time only, and audit entries are those where the person acted:
    nothing in it is about anybody else. An erased person has nothing left (NotFound).
    """
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        if person.erased_at is not None:
            raise NotFound("person", person_id)
        signups = await _rows(session, select(Signup).where(col(Signup.person_id) == person_id))
        views = await _views_of(session, ctx, [s.shift_id for s in signups])
        signups.sort(key=lambda s: (views[s.shift_id].shift.start_at, s.id or 0))
        return {
            "exported_at": iso(ctx, ctx.now()),
            "person": await _profile(session, ctx, person),
            "signups": [signup_entry(ctx, s, views[s.shift_id]) for s in signups],
            "check_ins": [check_in_entry(ctx, s) for s in signups if s.checked_in_at is not None],
            "reports": [
                plain(ctx, r, exclude={"person_id"}) for r in await _reports(session, person_id)
            ],
            "alarms": [alarm_entry(ctx, a) for a in await _alarms(session, person_id)],
            "conversations": [
                plain(ctx, c, exclude={"id", "person_id"})
                for c in await _conversations(session, person_id)
            ],
            "messages": [message_entry(ctx, m) for m in await _messages(session, person_id)],
            "actions": [action_entry(ctx, a) for a in await _actions(session, person_id)],
            "retention": {
                "report_text_days": ctx.settings.privacy.report_text_retention_days,
                "inactive_person_days": ctx.settings.privacy.inactive_person_days,
            },
        }


async def export_person_data(ctx: Context, actor: Actor, person_id: int) -> dict[str, Any]:
    """The export on someone's behalf (an SMS walker asking the coordinator): audited.

    The person themselves or a coordinator only.
    """
    now = ctx.now()
    if actor.person_id != person_id:
        await require_coordinator(
            ctx.store, actor, "people.data_export", now, target=f"person:{person_id}"
        )
    data = await export_my_data(ctx, person_id)
    async with ctx.store.transaction() as session:
        audit(session, actor, "people.data_export", now, target=f"person:{person_id}")
    return data


async def _profile(session: AsyncSession, ctx: Context, person: Person) -> dict[str, Any]:
    profile = {name: plain_value(ctx, getattr(person, name)) for name in PROFILE_FIELDS}
    org = None
    if person.organisation_id is not None:
        org = await session.get(Organisation, person.organisation_id)
    profile["organisation"] = org.name if org else None
    return profile


async def _rows(session: AsyncSession, statement: Any) -> list[Any]:
    return list((await session.exec(statement)).all())


async def _views_of(
    session: AsyncSession, ctx: Context, shift_ids: Sequence[int]
) -> dict[int, ShiftView]:
    if not shift_ids:
        return {}
    views = await shift_views(session, ctx, shift_ids=list(shift_ids))
    return {view.shift.id or 0: view for view in views}


async def _reports(session: AsyncSession, person_id: int) -> list[Report]:
    statement = select(Report).where(col(Report.person_id) == person_id).order_by(col(Report.id))
    return await _rows(session, statement)


async def _alarms(session: AsyncSession, person_id: int) -> list[Alarm]:
    statement = select(Alarm).where(col(Alarm.person_id) == person_id).order_by(col(Alarm.id))
    return await _rows(session, statement)


async def _conversations(session: AsyncSession, person_id: int) -> list[Conversation]:
    return await _rows(
        session, select(Conversation).where(col(Conversation.person_id) == person_id)
    )


async def _messages(session: AsyncSession, person_id: int) -> list[OutboxMessage]:
    statement = (
        select(OutboxMessage)
        .where(col(OutboxMessage.person_id) == person_id)
        .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
    )
    return await _rows(session, statement)


async def _actions(session: AsyncSession, person_id: int) -> list[AuditEntry]:
    statement = (
        select(AuditEntry)
        .where(col(AuditEntry.actor_id) == person_id)
        .order_by(col(AuditEntry.at), col(AuditEntry.id))
    )
    return await _rows(session, statement)


@dataclass(frozen=True)
class DataSummary:
    """A few figures about an export, for a reply that fits one SMS."""

    name: str
    signups: int
    upcoming: int
    reports: int
    messages: int


def summarise_export(data: dict[str, Any]) -> DataSummary:
    """Count what an export holds; upcoming: a place kept on a shift still planned."""
    upcoming = [
        s
        for s in data["signups"]
        if s["status"] != SignupStatus.CANCELLED and s["shift_status"] == ShiftStatus.PLANNED
    ]
    return DataSummary(
        name=data["person"]["name"],
        signups=len(data["signups"]),
        upcoming=len(upcoming),
        reports=len(data["reports"]),
        messages=len(data["messages"]),
    )
