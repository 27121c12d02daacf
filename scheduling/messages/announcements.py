"""Announcements: a lead or the coordinator writes once to their walkers, the outbox carries it.

``preview`` gives what the sender confirms first: the cleaned text, the head-count ("Skicka
till 23 vandrare?") and, when it would arrive inside ``[reminders] quiet_hours``, when those end.
``broadcast`` sends it: one row ``broadcast:<id>:person:<pid>`` each, due at once, with normal
priority (alarms always go first) and not held by quiet hours, since the sender was warned.
A lead reaches their own organisation only; a coordinator anyone. A sender (a person) may send
``[announcements] per_hour`` an hour; the command line is not limited. Every one is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Broadcast, Person
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.common.text import clean_text
from scheduling.messages.audiences import Audience, recipients
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.messages.quiet import quiet_end_after
from scheduling.people.access import Actor, audit, require_coordinator, require_manager
from scheduling.walks.shifts import get_shift

MAX_BROADCAST_CHARS = 1000
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Preview:
    text: str
    count: int
    quiet_until: datetime | None  # the end of the quiet hours it would arrive in, if any


async def preview(ctx: Context, actor: Actor, text: str, audience: Audience) -> Preview:
    """What sending would do, checked as sending checks it, without sending."""
    body = clean_text(text, field="text", max_length=MAX_BROADCAST_CHARS, multiline=True)
    audience = await _authorise(ctx, actor, audience)
    await _within_rate(ctx, actor)
    async with ctx.store.transaction() as session:
        count = len(await _people(session, ctx, actor, audience))
    quiet = quiet_end_after(ctx.now(), ctx.settings.reminders.quiet_hours, ctx.zone)
    return Preview(body, count, quiet)


async def broadcast(ctx: Context, actor: Actor, text: str, audience: Audience) -> Broadcast:
    """Put ``text`` in the outbox for everyone in the audience; the broadcast (with its count)."""
    now = ctx.now()
    body = clean_text(text, field="text", max_length=MAX_BROADCAST_CHARS, multiline=True)
    audience = await _authorise(ctx, actor, audience)
    await _within_rate(ctx, actor)
    async with ctx.store.transaction() as session:
        people = await _people(session, ctx, actor, audience)
        author = await session.get(Person, actor.person_id) if actor.person_id else None
        sent = Broadcast(
            text=body, audience=audience.kind, author_id=actor.person_id,
            author_label=actor.label, organisation_id=audience.organisation_id,
            shift_id=audience.shift_id, area_id=audience.area_id, night=audience.night,
            recipients=len(people), created_at=now,
        )
        session.add(sent)
        await session.flush()
        payload = {"broadcast_id": sent.id, "text": body, "author": author.name if author else None}
        await enqueue_many(session, one_each(sent, people, Kind.BROADCAST, now, payload), now)
        audit(
            session, actor, "broadcast.send", now, target=f"broadcast:{sent.id}",
            audience=audience.kind, recipients=len(people),
        )
        return sent


async def _people(
    session: AsyncSession, ctx: Context, actor: Actor, audience: Audience
) -> list[int]:
    """The audience's people; a sender who is one of them gets a copy like everyone else."""
    return await recipients(session, audience, ctx.now(), ctx.zone)


def one_each(
    sent: Broadcast, people: list[int], kind: str, now: datetime, payload: dict[str, Any],
    expires_at: datetime | None = None,
) -> list[NewMessage]:
    """One outbox row ``broadcast:<id>:person:<pid>`` per person, due at once."""
    return [
        NewMessage(
            key=f"broadcast:{sent.id}:person:{person_id}",
            kind=kind,
            person_id=person_id,
            due_at=now,
            expires_at=expires_at,
            payload=dict(payload),
        )
        for person_id in people
    ]


async def _authorise(ctx: Context, actor: Actor, audience: Audience) -> Audience:
    """Check the actor may write to the audience; the audience with its organisation (a
    shift's own)."""
    now = ctx.now()
    if audience.shift_id is not None:
        async with ctx.store.transaction() as session:
            shift = await get_shift(session, audience.shift_id)
        audience = Audience(organisation_id=shift.organisation_id, shift_id=shift.id)
    if audience.organisation_id is None:
        await require_coordinator(ctx.store, actor, "broadcast.send", now)
    else:
        await require_manager(ctx.store, actor, "broadcast.send", audience.organisation_id, now)
    return audience


async def _within_rate(ctx: Context, actor: Actor) -> None:
    """Refuse a person's announcement beyond ``[announcements] per_hour`` in the last hour."""
    if actor.person_id is None:
        return
    now = ctx.now()
    limit = ctx.settings.announcements.per_hour
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(func.count(), func.min(Broadcast.created_at)).where(
                col(Broadcast.author_id) == actor.person_id,
                col(Broadcast.text).is_not(None),  # announcements, not calls for walkers
                col(Broadcast.created_at) > now - HOUR,
            )
        )
        count, oldest = found.one()
    if count >= limit and oldest is not None:
        minutes = max(1, int((oldest + HOUR - now).total_seconds() // 60) + 1)
        raise DomainError("announcement_rate_limited", per_hour=limit, minutes=minutes)
