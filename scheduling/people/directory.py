"""People: registering, finding, listing and updating them.

Organisations and walk areas live in organisations; they are named here too, since most
callers reach the whole directory through this module.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Organisation, Person, Role
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput, NotFound
from scheduling.common.languages import LANGUAGES, pick_language
from scheduling.common.text import clean_text, normalise_phone
from scheduling.people.access import Actor, audit, require_coordinator, require_manager
from scheduling.people.organisations import (
    add_area,
    add_organisation,
    find_area,
    find_organisation,
    list_areas,
    list_organisations,
)

__all__ = [
    "LANGUAGES",
    "activity_stale",
    "add_area",
    "add_organisation",
    "add_person",
    "confirm_age",
    "count_people",
    "find_area",
    "find_by_telegram_id",
    "find_organisation",
    "get_person",
    "list_areas",
    "list_managers",
    "list_organisations",
    "list_people",
    "record_consent",
    "register_person",
    "set_language",
    "set_telegram_reachable",
    "set_trained",
]



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
    e164 = _checked_details(role, language, phone, telegram_id)
    now = ctx.now()
    org_id = await _may_add(ctx, actor, role, organisation, now)
    async with ctx.store.transaction() as session:
        await _refuse_taken_contact(session, e164, telegram_id)
        person = _new_person(
            now,
            name=clean,
            phone=e164,
            telegram_id=telegram_id,
            preferred_channel="telegram" if telegram_id or not e164 else "sms",
            language=language,
            organisation_id=org_id,
            role=role,
            trained=trained,
            consent_at=None,
            approved_at=now,
        )
        session.add(person)
        await session.flush()
        audit(session, actor, "people.add", now, target=f"person:{person.id}", role=role)
    return person


def _checked_details(
    role: str, language: str, phone: str | None, telegram_id: int | None
) -> str | None:
    """Refuse an unknown role or language and a malformed Telegram id; the phone in E.164."""
    if role not in Role.ALL:
        raise InvalidInput("bad_role", role=role)
    if language not in LANGUAGES:
        raise InvalidInput("bad_language", language=language)
    e164 = normalise_phone(phone) if phone else None
    if telegram_id is not None and not 0 < telegram_id < 2**52:
        raise InvalidInput("bad_telegram_id", telegram_id=telegram_id)
    return e164


async def _may_add(
    ctx: Context, actor: Actor, role: str, organisation: str | int | None, now: datetime
) -> int | None:
    """The organisation's id, once the actor is known to be allowed to add this role to it."""
    async with ctx.store.transaction() as session:
        org = await find_organisation(session, organisation) if organisation is not None else None
    org_id = org.id if org else None
    if role != Role.VOLUNTEER:
        await require_coordinator(ctx.store, actor, "people.add", now)
    else:
        await require_manager(ctx.store, actor, "people.add", org_id, now)
    return org_id


def _new_person(now: datetime, **fields: Any) -> Person:
    """A person registered now, of age by their own word or the operator's."""
    return Person(age_confirmed_at=now, created_at=now, last_active_at=now, **fields)


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
    """Create a volunteer who registered themselves (age confirmed, consent given, now);
    approved at once only when ``[walks] approval`` is "open"."""
    clean = clean_text(name, field="name", max_length=120)
    now = ctx.now()
    async with ctx.store.transaction() as session:
        if organisation_id is not None:
            await find_organisation(session, organisation_id)
        await _refuse_taken_contact(session, phone, telegram_id)
        person = _new_person(
            now,
            name=clean,
            phone=phone,
            telegram_id=telegram_id,
            preferred_channel=channel if channel in ("telegram", "sms") else "telegram",
            language=pick_language(language),
            organisation_id=organisation_id,
            role=Role.VOLUNTEER,
            consent_at=now,
            approved_at=now if ctx.settings.walks.approval == "open" else None,
        )
        session.add(person)
        await session.flush()
        audit(
            session, Actor.of(person, channel), "people.register", now, target=f"person:{person.id}"
        )
    return person


async def set_language(ctx: Context, person_id: int, language: str) -> Person:
    """The language the person is spoken to in (sv or en)."""
    if language not in LANGUAGES:
        raise InvalidInput("bad_language", language=language)
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        person.language = language
        session.add(person)
    return person


async def list_managers(ctx: Context, *, partners: bool = False) -> list[Person]:
    """Leads and coordinators (not erased); partners too when asked (their menus)."""
    roles = [Role.LEAD, Role.COORDINATOR, *([Role.PARTNER] if partners else [])]
    async with ctx.store.transaction() as session:
        return list(
            (
                await session.exec(
                    select(Person).where(
                        col(Person.role).in_(roles), col(Person.erased_at).is_(None)
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
