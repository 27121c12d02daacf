"""A person's right to their data, and the retention rules (docs/privacy.md).

``export_my_data`` gathers everything stored about one person as JSON-ready data (for
``/mina_data`` and ``MINA DATA``). ``apply_retention`` enforces ``[privacy]``: the free text of
old reports is blanked (the structured answers stay, so the statistics stay right), and people
inactive for ``inactive_person_days`` are told, then erased 30 days later if they stay away.
The ticker runs it once a day through ``retention_step``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import (
    AuditEntry,
    Conversation,
    Organisation,
    OutboxMessage,
    Person,
    Report,
    Role,
    Shift,
    ShiftStatus,
    Signup,
    SignupStatus,
)
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue
from scheduling.people.access import Actor, audit, require_coordinator
from scheduling.people.directory import get_person
from scheduling.people.erasure import erase_person
from scheduling.walks.shifts import ShiftView, shift_views

log = logging.getLogger("vandra.privacy")

NOTICE_KIND = Kind.INACTIVITY_NOTICE
NOTICE_GRACE = timedelta(days=30)  # a notice this old, and still inactive: erased
RETENTION_EVERY = timedelta(hours=24)
RETENTION_ACTION = "privacy.retention"
RETENTION_ACTOR = Actor(
    person_id=None,
    role=Role.COORDINATOR,
    organisation_id=None,
    label="retention",
    channel="system",
)


# --- export -------------------------------------------------------------------------------


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
            "exported_at": _iso(ctx, ctx.now()),
            "person": await _profile(session, ctx, person),
            "signups": [_signup(ctx, s, views[s.shift_id]) for s in signups],
            "check_ins": [_check_in(ctx, s) for s in signups if s.checked_in_at is not None],
            "reports": [
                _plain(ctx, r, exclude={"person_id"}) for r in await _reports(session, person_id)
            ],
            "conversations": [
                _plain(ctx, c, exclude={"id", "person_id"})
                for c in await _conversations(session, person_id)
            ],
            "messages": [_message(ctx, m) for m in await _messages(session, person_id)],
            "actions": [_action(ctx, a) for a in await _actions(session, person_id)],
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


PROFILE_FIELDS = (
    "id", "name", "phone", "telegram_id", "preferred_channel", "language", "role", "trained",
    "consent_at", "age_confirmed_at", "sms_opted_out", "sms_unreachable", "telegram_blocked",
    "no_show_count", "created_at", "last_active_at",
)  # fmt: skip
MESSAGE_FIELDS = ("kind", "channel", "status", "created_at", "due_at", "sent_at", "delivery_status")


async def _profile(session: AsyncSession, ctx: Context, person: Person) -> dict[str, Any]:
    profile = {name: _value(ctx, getattr(person, name)) for name in PROFILE_FIELDS}
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


def _signup(ctx: Context, signup: Signup, view: ShiftView) -> dict[str, Any]:
    return {
        "shift_id": signup.shift_id,
        "shift_start": _iso(ctx, view.shift.start_at),
        "shift_end": _iso(ctx, view.shift.end_at),
        "shift_status": view.status_at(ctx.now()),
        "organisation": view.organisation,
        "area": view.area,
        "meeting_point": view.meeting_point,
        **_plain(ctx, signup, exclude={"id", "shift_id", "person_id"}),
    }


def _check_in(ctx: Context, signup: Signup) -> dict[str, Any]:
    return {
        "shift_id": signup.shift_id,
        "checked_in_at": _iso(ctx, signup.checked_in_at),
        "checked_out_at": _iso(ctx, signup.checked_out_at),
    }


def _message(ctx: Context, message: OutboxMessage) -> dict[str, Any]:
    return {name: _value(ctx, getattr(message, name)) for name in MESSAGE_FIELDS}


def _action(ctx: Context, entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": _iso(ctx, entry.at),
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "channel": entry.details.get("channel"),
    }


def _plain(ctx: Context, row: SQLModel, exclude: set[str]) -> dict[str, Any]:
    return {key: _value(ctx, value) for key, value in row.model_dump(exclude=exclude).items()}


def _value(ctx: Context, value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(ctx, value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _iso(ctx: Context, moment: datetime | None) -> str | None:
    return moment.astimezone(ctx.zone).isoformat() if moment is not None else None


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


# --- retention ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionResult:
    reports_blanked: int = 0
    notices_queued: int = 0
    people_erased: int = 0


async def retention_step(ctx: Context) -> RetentionResult | None:
    """The ticker's step: apply retention unless it ran in the last 24 h (by any process)."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        recent = await session.exec(
            select(AuditEntry.id)
            .where(
                col(AuditEntry.action) == RETENTION_ACTION,
                col(AuditEntry.at) > now - RETENTION_EVERY,
            )
            .limit(1)
        )
        if recent.first() is not None:
            return None
    return await apply_retention(ctx)


async def apply_retention(ctx: Context) -> RetentionResult:
    """Blank old report text, notify and later erase inactive people; audited, idempotent."""
    now = ctx.now()
    blanked = await _blank_old_report_text(ctx, now)
    notices, erased = await _retire_inactive_people(ctx, now)
    result = RetentionResult(reports_blanked=blanked, notices_queued=notices, people_erased=erased)
    async with ctx.store.transaction() as session:
        audit(
            session,
            RETENTION_ACTOR,
            RETENTION_ACTION,
            now,
            reports_blanked=blanked,
            notices_queued=notices,
            people_erased=erased,
        )
    if blanked or notices or erased:
        log.info(
            "retention: %d report texts blanked, %d inactivity notices, %d people erased",
            blanked,
            notices,
            erased,
        )
    return result


async def _blank_old_report_text(ctx: Context, now: datetime) -> int:
    """The free-text summary of reports older than the retention period is removed."""
    cutoff = now - timedelta(days=ctx.settings.privacy.report_text_retention_days)
    async with ctx.store.transaction() as session:
        result = await session.exec(
            update(Report)
            .where(col(Report.summary).is_not(None), col(Report.created_at) < cutoff)
            .values(summary=None)
        )
        return int(result.rowcount or 0)


async def _retire_inactive_people(ctx: Context, now: datetime) -> tuple[int, int]:
    """Notify people inactive too long; erase those whose notice is 30 days old."""
    notices = erased = 0
    for person in await _inactive_people(ctx, now):
        key = inactivity_notice_key(person)
        noticed_at = await _notice_time(ctx, key)
        if noticed_at is None:
            notices += await _queue_notice(ctx, person, key, now)
        elif noticed_at <= now - NOTICE_GRACE and await _erase(ctx, person.id or 0):
            erased += 1
    return notices, erased


async def _notice_time(ctx: Context, key: str) -> datetime | None:
    async with ctx.store.transaction() as session:
        statement = select(OutboxMessage.created_at).where(col(OutboxMessage.dedupe_key) == key)
        return (await session.exec(statement)).first()


def inactivity_notice_key(person: Person) -> str:
    """The notice's dedupe key: one per person and period of inactivity.

    The period is named by the day of the last activity, so a person who comes back and later
    goes quiet again gets a fresh notice (and a fresh 30 days) instead of being erased on the
    strength of an old one.
    """
    since = person.last_active_at or person.created_at
    return f"inactivity:person:{person.id}:{since.date().isoformat()}"


async def _queue_notice(ctx: Context, person: Person, key: str, now: datetime) -> int:
    """The notice says how long they were away and on which (local) day they will be erased."""
    erase_on = (now + NOTICE_GRACE).astimezone(ctx.zone).date()
    days = ctx.settings.privacy.inactive_person_days
    async with ctx.store.transaction() as session:
        queued = await enqueue(
            session,
            key=key,
            kind=NOTICE_KIND,
            person_id=person.id or 0,
            due_at=now,
            now=now,
            payload={"days": days, "date": erase_on.isoformat()},
        )
    return int(queued)


async def _erase(ctx: Context, person_id: int) -> bool:
    try:
        await erase_person(ctx, RETENTION_ACTOR, person_id)
    except NotFound:
        return False  # erased meanwhile (by themselves, or by another process's run)
    return True


async def _inactive_people(ctx: Context, now: datetime) -> list[Person]:
    """People not active for ``inactive_person_days``, except those still needed.

    Still needed: anyone holding a place on a shift not yet over, a lead while their
    organisation has such a shift, and coordinators while any shift lies ahead.
    """
    cutoff = now - timedelta(days=ctx.settings.privacy.inactive_person_days)
    async with ctx.store.transaction() as session:
        candidates = await _rows(
            session,
            select(Person)
            .where(
                col(Person.erased_at).is_(None),
                or_(
                    col(Person.last_active_at) <= cutoff,
                    and_(col(Person.last_active_at).is_(None), col(Person.created_at) <= cutoff),
                ),
            )
            .order_by(col(Person.id)),
        )
        if not candidates:
            return []
        signed_up, busy_orgs = await _still_needed(session, now)
    return [p for p in candidates if not _needed(p, signed_up, busy_orgs)]


async def _still_needed(session: AsyncSession, now: datetime) -> tuple[set[int], set[int]]:
    """Who is signed up for a shift not yet over, and which organisations have such shifts."""
    ahead = and_(col(Shift.status) == ShiftStatus.PLANNED, col(Shift.end_at) > now)
    people = await session.exec(
        select(Signup.person_id)
        .join(Shift, col(Shift.id) == col(Signup.shift_id))
        .where(ahead, col(Signup.status) != SignupStatus.CANCELLED)
        .distinct()
    )
    orgs = await session.exec(select(Shift.organisation_id).where(ahead).distinct())
    return set(people.all()), set(orgs.all())


def _needed(person: Person, signed_up: set[int], busy_orgs: set[int]) -> bool:
    if person.id in signed_up:
        return True
    if person.role == Role.COORDINATOR:
        return bool(busy_orgs)
    return person.role == Role.LEAD and person.organisation_id in busy_orgs
