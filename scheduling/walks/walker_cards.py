"""A walker as their lead or the coordinator sees them: approval, the walk course, the
police-record check and how often they signed up and did not come ("3 av 12 pass utan att
komma": confirmed sign-ups of walks over and not cancelled, and of those the no-shows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func
from sqlmodel import col, select

from models.tables import Organisation, Person, Role, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.people.access import Actor, require_manager
from scheduling.people.scope import organisation_scope
from scheduling.people.vetting import record_check_until

LONGEST_LIST = 200


@dataclass(frozen=True)
class WalkerCard:
    id: int
    name: str
    organisation: str | None
    approved: bool
    course_on: date | None
    record_checked_on: date | None
    record_until: date | None
    walks: int  # confirmed sign-ups of walks over and not cancelled
    no_shows: int


async def walker_card(ctx: Context, actor: Actor, person_id: int) -> WalkerCard:
    """One walker's card, for their organisation's lead or a coordinator (audited refusal)."""
    async with ctx.store.transaction() as session:
        person = await session.get(Person, person_id)
    if person is None or person.erased_at is not None or person.rejected_at is not None:
        raise NotFound("person", person_id)
    await require_manager(ctx.store, actor, "people.card", person.organisation_id, ctx.now(),
                          target=f"person:{person_id}")
    return (await _cards(ctx, [person_id], None, None))[0]


async def walker_cards(ctx: Context, actor: Actor, search: str = "",
                       limit: int = LONGEST_LIST) -> list[WalkerCard]:
    """The walkers the actor manages (a lead: their organisation's), waiting ones first, then
    by name; ``search`` a part of the name."""
    org = await organisation_scope(ctx, actor, "people.list")
    return await _cards(ctx, None, org, search.strip()[:60], limit)


async def _cards(ctx: Context, ids: list[int] | None, org: int | None, search: str | None,
                 limit: int = LONGEST_LIST) -> list[WalkerCard]:
    over = (col(Shift.end_at) <= ctx.now()) & (col(Shift.status) != ShiftStatus.CANCELLED)
    walks = (
        select(Signup.person_id, func.count().label("walks"),
               func.sum(case((col(Signup.no_show), 1), else_=0)).label("absent"))
        .join(Shift, col(Shift.id) == col(Signup.shift_id))
        .where(col(Signup.status) == SignupStatus.CONFIRMED, over)
        .group_by(col(Signup.person_id))
        .subquery()
    )
    query = (
        select(Person, Organisation.name, walks.c.walks, walks.c.absent)
        .outerjoin(Organisation, col(Organisation.id) == col(Person.organisation_id))
        .outerjoin(walks, walks.c.person_id == col(Person.id))
        .where(col(Person.erased_at).is_(None), col(Person.rejected_at).is_(None))
    )
    if ids is not None:
        query = query.where(col(Person.id).in_(ids))
    else:
        query = query.where(col(Person.role) == Role.VOLUNTEER)
    if org is not None:
        query = query.where(col(Person.organisation_id) == org)
    if search:
        query = query.where(func.lower(col(Person.name)).contains(search.lower()))
    query = query.order_by(col(Person.approved_at).is_not(None), col(Person.name)).limit(limit)
    async with ctx.store.transaction() as session:
        rows = (await session.exec(query)).all()
    return [
        WalkerCard(p.id or 0, p.name, org_name, p.approved, p.course_on, p.record_checked_on,
                   record_check_until(ctx, p), int(count or 0), int(absent or 0))
        for p, org_name, count, absent in rows
    ]
