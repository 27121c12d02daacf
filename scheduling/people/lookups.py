"""A person as the channels and the dialogue see them: a plain view, not a table row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models.tables import Person, Role
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.common.text import name_key
from scheduling.messages.routing import route
from scheduling.people.access import Actor
from scheduling.people.directory import find_organisation


@dataclass(frozen=True)
class PersonView:
    """What the conversation needs to know about the person it speaks with."""

    id: int
    name: str
    phone: str | None
    telegram_id: int | None
    language: str
    role: str
    organisation_id: int | None
    registered: bool  # age confirmed (by the dialogue or the operator), not erased
    may_walk: bool  # registered and consented
    approved: bool  # a lead or the coordinator let them walk (``[walks] approval``)
    last_active_at: datetime | None

    @property
    def is_manager(self) -> bool:
        """A lead or the coordinator."""
        return self.role in (Role.LEAD, Role.COORDINATOR)

    @property
    def is_partner(self) -> bool:
        """A partner: receives the morning picture, nothing else (``bot/dialogue/partner.py``)."""
        return self.role == Role.PARTNER

    def actor(self, channel: str) -> Actor:
        """The person acting through ``channel``, as the use cases check and audit it."""
        return Actor(
            person_id=self.id,
            role=self.role,
            organisation_id=self.organisation_id,
            label=f"person:{self.id}",
            channel=channel,
        )


def person_view(person: Person) -> PersonView:
    """The view of a stored person (one the store has given an id)."""
    assert person.id is not None
    return PersonView(
        id=person.id,
        name=person.name,
        phone=person.phone,
        telegram_id=person.telegram_id,
        language=person.language,
        role=person.role,
        organisation_id=person.organisation_id,
        registered=person.registered,
        may_walk=person.may_walk,
        approved=person.approved,
        last_active_at=person.last_active_at,
    )


async def organisation_exists(ctx: Context, organisation_id: int) -> bool:
    """Whether there is an organisation with this id."""
    async with ctx.store.joined() as session:
        try:
            await find_organisation(session, organisation_id)
        except DomainError:
            return False
    return True


async def name_known(ctx: Context, name: str) -> bool:
    """Whether someone (not erased) goes by this name, as the console finds people."""
    wanted = name_key(name)
    async with ctx.store.joined() as session:
        names = await session.exec(select(Person.name).where(col(Person.erased_at).is_(None)))
        return any(name_key(found) == wanted for found in names.all())


async def messages_reach(ctx: Context, person_id: int) -> bool:
    """Whether vandra's messages (reminders, changes, offers) reach this person by any
    channel: not when they opted out of SMS (STOPP) and have no Telegram, say."""
    async with ctx.store.joined() as session:
        return route(await session.get(Person, person_id)) is not None
