"""Organisations, areas and people: creating, finding and listing them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Area, Organisation, Person, Role
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput, NotFound
from scheduling.common.languages import LANGUAGES, pick_language
from scheduling.common.text import clean_text, name_key, normalise_phone, small_number
from scheduling.people.access import Actor, audit, require_coordinator, require_manager

_Named = TypeVar("_Named", Organisation, Area)


async def find_organisation(session: AsyncSession, ref: str | int) -> Organisation:
    """An organisation by numeric id or by name (case-insensitive)."""
    return await _find(session, Organisation, ref, "organisation")


async def find_area(session: AsyncSession, ref: str | int) -> Area:
    """An area by numeric id or by name (case-insensitive)."""
    return await _find(session, Area, ref, "area")


async def _find(session: AsyncSession, table: type[_Named], ref: str | int, kind: str) -> _Named:
    text = str(ref).strip()
    found: _Named | None = None
    number = small_number(text)
    if number is not None:
        found = await session.get(table, number)
    if found is None:
        result = await session.exec(select(table).where(col(table.name_key) == name_key(text)))
        found = result.first()
    if found is None:
        raise NotFound(kind, text)
    return found


async def add_organisation(ctx: Context, actor: Actor, name: str) -> Organisation:
    """Create an organisation (coordinator only); names are unique regardless of case."""
    await require_coordinator(ctx.store, actor, "orgs.add", ctx.now())
    clean = clean_text(name, field="name", max_length=120)
    async with ctx.store.transaction() as session:
        await _refuse_duplicate(session, Organisation, clean, "organisation")
        org = Organisation(name=clean, name_key=name_key(clean), created_at=ctx.now())
        session.add(org)
        await session.flush()
        audit(session, actor, "orgs.add", ctx.now(), target=f"organisation:{org.id}")
    return org


async def add_area(ctx: Context, actor: Actor, name: str, meeting_point: str | None = None) -> Area:
    """Create a walk area with its meeting point (coordinator only)."""
    await require_coordinator(ctx.store, actor, "areas.add", ctx.now())
    clean = clean_text(name, field="name", max_length=120)
    point = (
        clean_text(meeting_point, field="meeting_point", max_length=200) if meeting_point else None
    )
    async with ctx.store.transaction() as session:
        await _refuse_duplicate(session, Area, clean, "area")
        area = Area(name=clean, name_key=name_key(clean), meeting_point=point, created_at=ctx.now())
        session.add(area)
        await session.flush()
        audit(session, actor, "areas.add", ctx.now(), target=f"area:{area.id}")
    return area


async def _refuse_duplicate(
    session: AsyncSession, table: type[Organisation] | type[Area], name: str, kind: str
) -> None:
    existing = await session.exec(select(table).where(col(table.name_key) == name_key(name)))
    if existing.first() is not None:
        raise DomainError(f"{kind}_exists", name=name)


async def list_organisations(ctx: Context) -> list[Organisation]:
    async with ctx.store.transaction() as session:
        return list((await session.exec(select(Organisation).order_by(col(Organisation.id)))).all())


async def list_areas(ctx: Context) -> list[Area]:
    async with ctx.store.transaction() as session:
        return list((await session.exec(select(Area).order_by(col(Area.id)))).all())


async def add_person(
    ctx: Context,
    actor: Actor,
    *,
    name: str,
    phone: str | None = None,
    telegram_id: int | None = None,
    organisation: str | int | None = None,
    role: str = Role.VOLUNTEER,
    trained: bool = False,
    language: str = "sv",
) -> Person:
    """Register a person on someone's behalf (CLI, coordinator): they count as registered
    (the operator vouches for name and age); the person's own consent is asked on first contact.

    Leads may add volunteers to their own organisation; roles above volunteer need a coordinator.
    """
    clean = clean_text(name, field="name", max_length=120)
    if role not in Role.ALL:
        raise InvalidInput("bad_role", role=role)
    if language not in LANGUAGES:
        raise InvalidInput("bad_language", language=language)
    e164 = normalise_phone(phone) if phone else None
    if telegram_id is not None and not 0 < telegram_id < 2**52:
        raise InvalidInput("bad_telegram_id", telegram_id=telegram_id)
    now = ctx.now()
    async with ctx.store.transaction() as session:
        org = await find_organisation(session, organisation) if organisation is not None else None
    if role != Role.VOLUNTEER:
        await require_coordinator(ctx.store, actor, "people.add", now)
    else:
        await require_manager(ctx.store, actor, "people.add", org.id if org else None, now)
    async with ctx.store.transaction() as session:
        await _refuse_taken_contact(session, e164, telegram_id)
        person = Person(
            name=clean,
            phone=e164,
            telegram_id=telegram_id,
            preferred_channel="telegram" if telegram_id or not e164 else "sms",
            language=language,
            organisation_id=org.id if org else None,
            role=role,
            trained=trained,
            consent_at=None,
            age_confirmed_at=now,
            created_at=now,
            last_active_at=now,
        )
        session.add(person)
        await session.flush()
        audit(session, actor, "people.add", now, target=f"person:{person.id}", role=role)
    return person


async def _refuse_taken_contact(
    session: AsyncSession, phone: str | None, telegram_id: int | None
) -> None:
    if phone:
        taken = await session.exec(select(Person.id).where(col(Person.phone) == phone))
        if taken.first() is not None:
            raise DomainError("phone_taken", phone=phone)
    if telegram_id:
        taken_tg = await session.exec(
            select(Person.id).where(col(Person.telegram_id) == telegram_id)
        )
        if taken_tg.first() is not None:
            raise DomainError("telegram_id_taken", telegram_id=telegram_id)


async def list_people(ctx: Context) -> list[tuple[Person, Organisation | None]]:
    async with ctx.store.transaction() as session:
        rows = await session.exec(
            select(Person, Organisation)
            .join(Organisation, col(Organisation.id) == col(Person.organisation_id), isouter=True)
            .order_by(col(Person.id))
        )
        return [(person, org) for person, org in rows.all()]


ACTIVITY_PRECISION = timedelta(hours=1)


def activity_stale(person: Person, now: datetime) -> bool:
    """Whether the person's last activity should be noted again: it decides only when an
    inactive person is removed (after many months), so once an hour is precise enough and
    spares most inputs a write."""
    last = person.last_active_at
    return last is None or now - last >= ACTIVITY_PRECISION


async def get_person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("person", person_id)
    return person


async def set_trained(ctx: Context, actor: Actor, person_id: int, trained: bool = True) -> Person:
    """Mark a person as trained (did the walk course): their lead or a coordinator."""
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
    await require_manager(
        ctx.store,
        actor,
        "people.trained",
        person.organisation_id,
        ctx.now(),
        target=f"person:{person_id}",
    )
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        person.trained = trained
        session.add(person)
        audit(
            session,
            actor,
            "people.trained",
            ctx.now(),
            target=f"person:{person_id}",
            trained=trained,
        )
    return person


async def count_people(session: AsyncSession) -> int:
    return int((await session.exec(select(func.count()).select_from(Person))).one())


async def record_consent(ctx: Context, person_id: int) -> Person:
    """The person agreed to their details being stored for walk coordination."""
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        if person.consent_at is None:
            person.consent_at = ctx.now()
        person.last_active_at = ctx.now()
        session.add(person)
    return person


async def confirm_age(ctx: Context, person_id: int) -> Person:
    """The person confirmed they are at least ``[walks] min_age``."""
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        if person.age_confirmed_at is None:
            person.age_confirmed_at = ctx.now()
        session.add(person)
    return person


async def register_person(
    ctx: Context,
    *,
    name: str,
    organisation_id: int | None,
    language: str,
    channel: str,
    telegram_id: int | None = None,
    phone: str | None = None,
) -> Person:
    """Create a volunteer who registered themselves (age confirmed, consent given, now)."""
    clean = clean_text(name, field="name", max_length=120)
    now = ctx.now()
    async with ctx.store.transaction() as session:
        if organisation_id is not None:
            await find_organisation(session, organisation_id)
        await _refuse_taken_contact(session, phone, telegram_id)
        person = Person(
            name=clean,
            phone=phone,
            telegram_id=telegram_id,
            preferred_channel=channel if channel in ("telegram", "sms") else "telegram",
            language=pick_language(language),
            organisation_id=organisation_id,
            role=Role.VOLUNTEER,
            consent_at=now,
            age_confirmed_at=now,
            created_at=now,
            last_active_at=now,
        )
        session.add(person)
        await session.flush()
        audit(
            session, Actor.of(person, channel), "people.register", now, target=f"person:{person.id}"
        )
    return person


async def link_phone(ctx: Context, person_id: int, phone: str) -> Person:
    """Give a person their phone number. When an operator already added someone with that number
    (and no Telegram id), the two are one person: the earlier record gets the Telegram id and
    this one's sign-ups, and this one is removed."""
    from sqlalchemy import update

    from models.tables import Conversation, OutboxMessage

    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        if person.phone == phone:
            return person
        other = (await session.exec(select(Person).where(col(Person.phone) == phone))).first()
        if other is None:
            person.phone = phone
            session.add(person)
            return person
        if other.telegram_id is not None or other.erased_at is not None:
            raise DomainError("phone_taken", phone=phone)
        telegram_id, person.telegram_id = person.telegram_id, None
        session.add(person)
        await session.flush()  # free the unique Telegram id before the other record takes it
        other.telegram_id = telegram_id
        other.consent_at = other.consent_at or person.consent_at
        other.age_confirmed_at = other.age_confirmed_at or person.age_confirmed_at
        other.organisation_id = other.organisation_id or person.organisation_id
        other.language = person.language
        freed = await _merge_signups(session, person.id or 0, other.id or 0)
        for table in (Conversation, OutboxMessage):
            await session.exec(
                update(table).where(col(table.person_id) == person.id).values(person_id=other.id)
            )
        await _merge_reports(session, person.id or 0, other.id or 0)
        await session.flush()
        session.add(other)
        await session.delete(person)
        await session.flush()
        from scheduling.walks.shifts import get_shift
        from scheduling.walks.signups import promote_waitlisted

        for shift_id in freed:
            await promote_waitlisted(
                session, ctx, await get_shift(session, shift_id, lock=True), ctx.now()
            )
        audit(
            session,
            Actor.of(other, "telegram"),
            "people.link_phone",
            ctx.now(),
            target=f"person:{other.id}",
            merged=person_id,
        )
        return other


_SIGNUP_RANK = {"confirmed": 3, "offered": 2, "waitlisted": 1, "cancelled": 0}


async def _merge_signups(session: AsyncSession, from_id: int, into_id: int) -> list[int]:
    """Move one person's sign-ups to another; where both have one for a shift, the stronger
    (a seat beats a waitlist place beats a cancellation) is kept. Returns the shifts where a
    seat was given up, for the waitlist to move."""
    from models.tables import Signup, SignupStatus

    kept = {
        s.shift_id: s
        for s in (await session.exec(select(Signup).where(col(Signup.person_id) == into_id))).all()
    }
    freed: list[int] = []
    for signup in (
        await session.exec(select(Signup).where(col(Signup.person_id) == from_id))
    ).all():
        existing = kept.get(signup.shift_id)
        if existing is None:
            signup.person_id = into_id
            session.add(signup)
            continue
        stronger, weaker = (
            (signup, existing)
            if _SIGNUP_RANK[signup.status] > _SIGNUP_RANK[existing.status]
            else (existing, signup)
        )
        if weaker.status in SignupStatus.HOLDS_SEAT:
            freed.append(signup.shift_id)
        for name in (
            "status",
            "queued_at",
            "confirmed_at",
            "offer_expires_at",
            "cancelled_at",
            "checked_in_at",
            "checked_out_at",
            "no_show",
        ):
            setattr(existing, name, getattr(stronger, name))
        session.add(existing)
        await session.delete(signup)
    await session.flush()
    return freed


async def _merge_reports(session: AsyncSession, from_id: int, into_id: int) -> None:
    """Move reports; where both wrote one for the same shift, the one already kept stays."""
    from models.tables import Report

    kept = set(
        (await session.exec(select(Report.shift_id).where(col(Report.person_id) == into_id))).all()
    )
    for report in (
        await session.exec(select(Report).where(col(Report.person_id) == from_id))
    ).all():
        if report.shift_id in kept:
            await session.delete(report)
        else:
            report.person_id = into_id
            session.add(report)


async def set_language(ctx: Context, person_id: int, language: str) -> Person:
    """The language the person is spoken to in (sv or en)."""
    if language not in LANGUAGES:
        raise InvalidInput("bad_language", language=language)
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        person.language = language
        session.add(person)
    return person


async def list_managers(ctx: Context) -> list[Person]:
    """Leads and coordinators (not erased)."""
    async with ctx.store.transaction() as session:
        return list(
            (
                await session.exec(
                    select(Person).where(
                        col(Person.role).in_([Role.LEAD, Role.COORDINATOR]),
                        col(Person.erased_at).is_(None),
                    )
                )
            ).all()
        )


async def find_by_telegram_id(ctx: Context, telegram_id: int) -> Person | None:
    async with ctx.store.transaction() as session:
        return (
            await session.exec(select(Person).where(col(Person.telegram_id) == telegram_id))
        ).first()


async def set_telegram_reachable(ctx: Context, telegram_id: int, reachable: bool) -> None:
    """The person blocked (or unblocked) the bot: messages go by SMS meanwhile, if they can."""
    async with ctx.store.transaction() as session:
        person = (
            await session.exec(select(Person).where(col(Person.telegram_id) == telegram_id))
        ).first()
        if person is not None:
            person.telegram_blocked = not reachable
            session.add(person)
