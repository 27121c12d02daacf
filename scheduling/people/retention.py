"""Retention (``[privacy]``, docs/privacy.md): old report text blanked, inactive people erased.

The free text of old reports is blanked, with a walker's own words for a spot (the structured
answers stay, so the statistics stay right), and people inactive for ``inactive_person_days``
are told, then erased 30 days later if they stay away. A conversation that never became a
person's (a registration given up half-way: the Telegram id or number, perhaps the name typed)
or is left from one erased goes after ``ABANDONED_CONVERSATION``. The ticker runs it once a
day through ``retention_step``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.place_tables import Place, PlaceReport
from models.tables import (
    Alarm,
    AlarmStatus,
    AuditEntry,
    Conversation,
    FollowUp,
    OutboxMessage,
    Person,
    Report,
    Role,
)
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue
from scheduling.people.access import Actor, audit
from scheduling.people.erasure import erase_person
from scheduling.people.inactivity import inactive_people
from scheduling.people.traces import forget_closed_alarms
from scheduling.walks.alarms import LOCATION_KEPT

log = logging.getLogger("vandra.privacy")

NOTICE_KIND = Kind.INACTIVITY_NOTICE
NOTICE_GRACE = timedelta(days=30)  # a notice this old, and still inactive: erased
ABANDONED_CONVERSATION = timedelta(days=30)  # a conversation of nobody, untouched this long
RETENTION_EVERY = timedelta(hours=24)
RETENTION_ACTION = "privacy.retention"
RETENTION_ACTOR = Actor(
    person_id=None,
    role=Role.COORDINATOR,
    organisation_id=None,
    label="retention",
    channel="system",
)


@dataclass(frozen=True)
class RetentionResult:
    reports_blanked: int = 0
    notices_queued: int = 0
    people_erased: int = 0
    conversations_dropped: int = 0


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
    await _forget_finished_alarms_of_the_erased(ctx)
    await _forget_stale_locations(ctx, now)
    dropped = await _drop_abandoned_conversations(ctx, now)
    result = RetentionResult(
        reports_blanked=blanked,
        notices_queued=notices,
        people_erased=erased,
        conversations_dropped=dropped,
    )
    async with ctx.store.transaction() as session:
        audit(
            session,
            RETENTION_ACTOR,
            RETENTION_ACTION,
            now,
            reports_blanked=blanked,
            notices_queued=notices,
            people_erased=erased,
            conversations_dropped=dropped,
        )
    if blanked or notices or erased or dropped:
        log.info(
            "retention: %d report texts blanked, %d inactivity notices, %d people erased, "
            "%d abandoned conversations dropped",
            blanked,
            notices,
            erased,
            dropped,
        )
    return result


async def _blank_old_report_text(ctx: Context, now: datetime) -> int:
    """The free-text summary of reports older than the retention period is removed, and so is
    the note on a follow-up opened that long ago (it is report text too)."""
    cutoff = now - timedelta(days=ctx.settings.privacy.report_text_retention_days)
    async with ctx.store.transaction() as session:
        result = await session.exec(
            update(Report)
            .where(col(Report.summary).is_not(None), col(Report.created_at) < cutoff)
            .values(summary=None)
        )
        await session.exec(
            update(FollowUp)
            .where(col(FollowUp.note).is_not(None), col(FollowUp.opened_at) < cutoff)
            .values(note=None)
        )
        await _blank_old_spots(session, cutoff, ctx.settings.walks.places)
        return int(result.rowcount or 0)


async def _blank_old_spots(session: AsyncSession, cutoff: datetime, places: list[str]) -> None:
    """A walker's own words for a place (``spot`` of an "other" place issue) are report text
    too: gone from reports older than the cutoff, and from a place no report newer than that
    names (it keeps its area and kind, shown as "another place"; it no longer merges with a
    later report of the same words: ``open_key`` held them too). A configured place's name is
    no one's words and stays."""
    reports = await session.exec(
        select(Report).where(
            col(Report.created_at) < cutoff,
            cast(col(Report.place_issues), String).like('%"spot"%'),
        )
    )
    for report in reports.all():
        if any("spot" in issue for issue in report.place_issues or []):
            report.place_issues = [
                {k: v for k, v in issue.items() if k != "spot"}
                for issue in report.place_issues
            ]
            session.add(report)
    recent = (
        select(PlaceReport.place_id)
        .join(Report, col(Report.id) == col(PlaceReport.report_id))
        .where(col(Report.created_at) >= cutoff)
    )
    stale = await session.exec(
        select(Place).where(
            col(Place.spot) != "",
            col(Place.spot).not_in(places or [""]),
            col(Place.created_at) < cutoff,
            col(Place.id).not_in(recent),
        )
    )
    for place in stale.all():
        place.spot, place.open_key = "", None
        session.add(place)


async def _forget_finished_alarms_of_the_erased(ctx: Context) -> int:
    """An alarm still open when its walker was erased keeps its text and location until it is
    over (``traces.py``); once acknowledged or called off, they go here."""
    async with ctx.store.transaction() as session:
        erased = await session.exec(
            select(Alarm.person_id)
            .join(Person, col(Person.id) == col(Alarm.person_id))
            .where(col(Person.erased_at).is_not(None), col(Alarm.status) != AlarmStatus.OPEN)
        )
        return await forget_closed_alarms(session, {pid for pid in erased.all() if pid})


async def _forget_stale_locations(ctx: Context, now: datetime) -> int:
    """A location shared in chat before any alarm is kept ``LOCATION_KEPT`` for one; the next
    turn forgets it after that (``bot/dialogue/alarm.py``), and this for a person who never
    came back. How many conversations."""
    async with ctx.store.transaction() as session:
        rows = await session.exec(
            select(Conversation).where(
                col(Conversation.updated_at) < now - LOCATION_KEPT,
                cast(col(Conversation.data), String).like('%"location"%'),
            )
        )
        forgotten = 0
        for conversation in rows.all():
            if "location" in (conversation.data or {}):
                conversation.data = {
                    k: v for k, v in conversation.data.items() if k != "location"
                }
                session.add(conversation)
                forgotten += 1
        return forgotten


async def _drop_abandoned_conversations(ctx: Context, now: datetime) -> int:
    """Conversations that belong to no person, untouched for ``ABANDONED_CONVERSATION``: a
    registration given up (its address and the name typed so far) or what was left after an
    erasure (its address and language). Whoever writes again starts afresh."""
    async with ctx.store.transaction() as session:
        result = await session.exec(
            delete(Conversation).where(
                col(Conversation.person_id).is_(None),
                col(Conversation.updated_at) < now - ABANDONED_CONVERSATION,
            )
        )
        return int(result.rowcount or 0)


async def _retire_inactive_people(ctx: Context, now: datetime) -> tuple[int, int]:
    """Notify people inactive too long; erase those whose notice is 30 days old."""
    notices = erased = 0
    for person in await inactive_people(ctx, now):
        await asyncio.sleep(0)  # one person per transaction, the event loop free in between
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
