"""Calendar feeds: a private, revocable iCalendar URL of a person's own shifts or of all the
shifts of an organisation (``GET /ical/<token>.ics``).

Feeds are RFC 5545 (the icalendar library): every shift is one VEVENT with the stable UID
``shift-<id>@vandra`` and a SEQUENCE raised by every edit and by cancelling, times with TZID
of ``[scheduling] timezone`` and its VTIMEZONE, and a cancelled shift stays in the feed with
STATUS:CANCELLED so that calendars remove it. Feeds show shifts from ``FEED_HISTORY`` ago
onwards. Tokens are 256 random bits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import (
    CalendarToken,
    Organisation,
    Person,
    Shift,
    ShiftStatus,
    Signup,
    SignupStatus,
)
from scheduling.common.config import Settings
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.common.labels import Texts
from scheduling.people.access import Actor, audit, require_coordinator, require_manager
from scheduling.people.directory import find_organisation, get_person
from scheduling.walks.shifts import ShiftView, shift_views

FEED_HISTORY = timedelta(days=90)
PRODID = "-//vandra//vandra calendar feed//SV"


@dataclass(frozen=True)
class FeedOwner:
    """Whose feed: a person's or an organisation's (exactly one of the ids is set)."""

    person_id: int | None
    organisation_id: int | None
    name: str
    language: str = "sv"

    @property
    def label(self) -> str:
        return (
            f"person:{self.person_id}"
            if self.person_id is not None
            else f"organisation:{self.organisation_id}"
        )


async def person_owner(ctx: Context, person_id: int) -> FeedOwner:
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
    if person.erased_at is not None:
        raise NotFound("person", person_id)
    return FeedOwner(person.id, None, person.name, person.language)


async def organisation_owner(ctx: Context, ref: str | int) -> FeedOwner:
    async with ctx.store.transaction() as session:
        org = await find_organisation(session, ref)
    return FeedOwner(None, org.id, org.name)


def public_base(settings: Settings) -> str:
    """Where the outside world reaches this server: ``[http] public_url``, else host:port."""
    http = settings.http
    return (http.public_url or f"http://{http.host}:{http.port}").rstrip("/")


def _owned_by(owner: FeedOwner) -> ColumnElement[bool]:
    if owner.person_id is not None:
        return col(CalendarToken.person_id) == owner.person_id
    return col(CalendarToken.organisation_id) == owner.organisation_id


async def token_for(ctx: Context, owner: FeedOwner) -> str:
    """The owner's active feed token, made on first use."""
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(CalendarToken)
            .where(_owned_by(owner), col(CalendarToken.revoked_at).is_(None))
            .order_by(col(CalendarToken.id))
        )
        existing = found.first()
        if existing is not None:
            return existing.token
        token = CalendarToken(
            token=secrets.token_urlsafe(32),
            person_id=owner.person_id,
            organisation_id=owner.organisation_id,
            created_at=ctx.now(),
        )
        session.add(token)
        return token.token


async def feed_url(ctx: Context, owner: FeedOwner) -> str:
    """``<public_url>/ical/<token>.ics`` for the owner (the token is made if missing)."""
    return f"{public_base(ctx.settings)}/ical/{await token_for(ctx, owner)}.ics"


async def feed_url_for_person(ctx: Context, person_id: int) -> str:
    """The private calendar link of a person's own shifts (for /mina and SMS MINA)."""
    return await feed_url(ctx, await person_owner(ctx, person_id))


async def feed_url_for_organisation(ctx: Context, ref: str | int) -> str:
    """The calendar link of all of an organisation's shifts."""
    return await feed_url(ctx, await organisation_owner(ctx, ref))


async def revoke_tokens(ctx: Context, actor: Actor, owner: FeedOwner) -> int:
    """Revoke the owner's feed links (the old URLs answer 404 from now on); audited.

    An organisation's links: its lead or a coordinator. A person's: that person or a
    coordinator. Anyone else is refused (PermissionDenied, audited).
    """
    if owner.person_id is None:
        await require_manager(
            ctx.store, actor, "calendar.revoke", owner.organisation_id, ctx.now(), owner.label
        )
    elif actor.person_id != owner.person_id:
        await require_coordinator(ctx.store, actor, "calendar.revoke", ctx.now(), owner.label)
    async with ctx.store.transaction() as session:
        result = await session.exec(
            update(CalendarToken)
            .where(_owned_by(owner), col(CalendarToken.revoked_at).is_(None))
            .values(revoked_at=ctx.now())
        )
        count = int(result.rowcount or 0)
        audit(session, actor, "calendar.revoke", ctx.now(), target=owner.label, count=count)
    return count


# --- the feed ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    owner: FeedOwner
    shifts: list[ShiftView]
    waitlisted: frozenset[int]  # shift ids on which the person is only on the waitlist


async def feed_for_token(ctx: Context, token: str) -> Feed | None:
    """The shifts behind an active token; None for an unknown or revoked one."""
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(CalendarToken).where(
                col(CalendarToken.token) == token, col(CalendarToken.revoked_at).is_(None)
            )
        )
        row = found.first()
        if row is None:
            return None
        since = ctx.now() - FEED_HISTORY
        if row.person_id is not None:
            return await _person_feed(session, ctx, row.person_id, since)
        org = await session.get(Organisation, row.organisation_id)
        if org is None:
            return None
        views = await shift_views(session, ctx, ends_after=since, organisation_id=org.id)
        return Feed(FeedOwner(None, org.id, org.name), views, frozenset())


async def _person_feed(
    session: AsyncSession, ctx: Context, person_id: int, since: datetime
) -> Feed | None:
    person = await session.get(Person, person_id)
    if person is None or person.erased_at is not None:
        return None
    found = await session.exec(
        select(Signup)
        .join(Shift, col(Shift.id) == col(Signup.shift_id))
        .where(
            col(Signup.person_id) == person_id,
            col(Signup.status) != SignupStatus.CANCELLED,
            col(Shift.end_at) > since,
        )
    )
    signups = found.all()
    views = await shift_views(session, ctx, shift_ids=[s.shift_id for s in signups])
    waitlisted = frozenset(s.shift_id for s in signups if s.status == SignupStatus.WAITLISTED)
    return Feed(FeedOwner(person.id, None, person.name, person.language), views, waitlisted)


def render_ics(feed: Feed, texts: Texts, ctx: Context) -> bytes:
    """The feed as an RFC 5545 calendar with a VTIMEZONE for the configured zone."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    key = "calendar_person" if feed.owner.person_id is not None else "calendar_organisation"
    calendar.add(
        "x-wr-calname",
        texts(f"coordinator.ical.{key}", name=feed.owner.name, organisation=feed.owner.name),
    )
    calendar.add("x-wr-timezone", ctx.zone.key)
    for view in feed.shifts:
        calendar.add_component(_event(view, feed, texts, ctx))
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def calendar_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """Local time with the zone's TZID, except in the hour the clocks go back: a wall time
    there happens twice and calendars read it as the first, so the second (``--fold later``)
    is written in UTC instead."""
    local = moment.astimezone(zone)
    if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
        return moment.astimezone(UTC)
    return local


def _event(view: ShiftView, feed: Feed, texts: Texts, ctx: Context) -> Event:
    shift = view.shift
    cancelled = shift.status == ShiftStatus.CANCELLED
    event = Event()
    event.add("uid", f"shift-{shift.id}@vandra")
    event.add("dtstamp", ctx.now())
    event.add("dtstart", calendar_time(shift.start_at, ctx.zone))
    event.add("dtend", calendar_time(shift.end_at, ctx.zone))
    event.add(
        "summary",
        texts(
            "coordinator.ical.summary_cancelled" if cancelled else "coordinator.ical.summary",
            area=view.area,
        ),
    )
    event.add("location", view.meeting_point or view.area)
    event.add("description", _description(view, texts))
    if cancelled:
        status = "CANCELLED"
    elif (shift.id or 0) in feed.waitlisted:
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    event.add("status", status)
    # each edit raises the SEQUENCE (the UID stays), and so does cancelling
    event.add("sequence", shift.sequence + (1 if cancelled else 0))
    event.add("last-modified", shift.cancelled_at or shift.moved_at or shift.created_at)
    return event


def _description(view: ShiftView, texts: Texts) -> str:
    text = texts(
        "coordinator.ical.description",
        organisation=view.organisation,
        meeting_point=view.meeting_point or view.area,
        confirmed=view.seats_taken,
        max=view.shift.max_walkers,
        min=view.shift.min_walkers,
    )
    if view.shift.risk_night:
        text += " " + texts("coordinator.ical.risk_night")
    return text
