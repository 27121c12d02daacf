"""Approval (``[walks] approval``): a walker who registered through the bot waits until a lead
of their organisation, or the coordinator, lets them walk.

On registration the organisation's leads (the coordinators when it has none) get a notice with
approve / reject options. A pending walker who asks for a shift has it remembered; approval
signs them up for it and tells them. A rejected walker is told politely and erased once the
message has gone (``erase_rejected``, a tick step).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Organisation, OutboxMessage, OutboxStatus, Person, Role
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, NotFound
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue
from scheduling.people.access import Actor, audit, require_manager
from scheduling.people.directory import get_person
from scheduling.people.erasure import erase_person
from scheduling.people.retention import RETENTION_ACTOR
from scheduling.walks import signups

REJECTED_GRACE = timedelta(days=2)  # erased by then even if the message could not be sent


@dataclass(frozen=True)
class Approval:
    """What approving did: the remembered shift and how signing up for it went."""

    person: Person
    shift_id: int | None = None
    outcome: str | None = None  # confirmed | waitlisted | an error code


async def approvers(session: AsyncSession, organisation_id: int | None) -> list[Person]:
    """The organisation's leads; the coordinators when it has none (or for no organisation)."""
    alive = col(Person.erased_at).is_(None)
    if organisation_id is not None:
        leads = await session.exec(
            select(Person).where(
                alive,
                col(Person.role) == Role.LEAD,
                col(Person.organisation_id) == organisation_id,
            )
        )
        found = list(leads.all())
        if found:
            return found
    coordinators = await session.exec(
        select(Person).where(alive, col(Person.role) == Role.COORDINATOR)
    )
    return list(coordinators.all())


async def request_approval(ctx: Context, person_id: int) -> int:
    """Tell whoever may approve the person that they are waiting; how many were told."""
    now = ctx.now()
    told = 0
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        if person.approved or person.erased_at is not None:
            return 0
        org = (
            await session.get(Organisation, person.organisation_id)
            if person.organisation_id is not None
            else None
        )
        payload = {"person_id": person_id, "name": person.name, "organisation": org and org.name}
        for manager in await approvers(session, person.organisation_id):
            told += await enqueue(
                session,
                key=f"approval:person:{person_id}:to:{manager.id}",
                kind=Kind.APPROVAL_REQUEST,
                person_id=manager.id or 0,
                due_at=now,
                now=now,
                payload=payload,
            )
    return told


async def wait_for_shift(ctx: Context, person_id: int, shift_id: int) -> None:
    """Remember the shift a pending walker wants: approval signs them up for it."""
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        person.waiting_shift_id = shift_id
        session.add(person)


async def _pending(ctx: Context, actor: Actor, person_id: int, action: str) -> Person:
    """The person, once the actor is known to be allowed to decide about them."""
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
    if person.erased_at is not None or person.rejected_at is not None:
        raise NotFound("person", person_id)
    await require_manager(
        ctx.store, actor, action, person.organisation_id, ctx.now(), target=f"person:{person_id}"
    )
    return person


async def approve_person(ctx: Context, actor: Actor, person_id: int) -> Approval:
    """Let the person walk; sign them up for the shift they waited for and tell them."""
    found = await _pending(ctx, actor, person_id, "people.approve")
    if found.approved:
        raise DomainError("already_approved", ref=str(person_id))
    now = ctx.now()
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        person.approved_at = now
        shift_id, person.waiting_shift_id = person.waiting_shift_id, None
        session.add(person)
        audit(session, actor, "people.approve", now, target=f"person:{person_id}")
    outcome = await _sign_up_waiting(ctx, person_id, shift_id)
    async with ctx.store.transaction() as session:
        await enqueue(
            session,
            key=f"approved:person:{person_id}",
            kind=Kind.APPROVED,
            person_id=person_id,
            due_at=now,
            now=now,
            payload={"shift_id": shift_id, "outcome": outcome},
        )
    return Approval(person=person, shift_id=shift_id, outcome=outcome)


async def _sign_up_waiting(ctx: Context, person_id: int, shift_id: int | None) -> str | None:
    if shift_id is None:
        return None
    try:
        async with ctx.store.transaction():
            result = await signups.sign_up(ctx, person_id, shift_id)
    except DomainError as error:
        return error.code
    return result.outcome


async def reject_person(ctx: Context, actor: Actor, person_id: int) -> Person:
    """Turn the person down: they are told politely, then erased (``erase_rejected``)."""
    found = await _pending(ctx, actor, person_id, "people.reject")
    if found.approved:
        raise DomainError("already_approved", ref=str(person_id))
    now = ctx.now()
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        person.rejected_at = now
        person.waiting_shift_id = None
        session.add(person)
        audit(session, actor, "people.reject", now, target=f"person:{person_id}")
        await enqueue(
            session,
            key=f"rejected:person:{person_id}",
            kind=Kind.REJECTED,
            person_id=person_id,
            due_at=now,
            now=now,
        )
    return person


async def erase_rejected(ctx: Context) -> int:
    """The tick step: erase rejected people whose message has gone (or could not, in time)."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        rows = await session.exec(
            select(Person.id, Person.rejected_at).where(
                col(Person.rejected_at).is_not(None), col(Person.erased_at).is_(None)
            )
        )
        candidates = list(rows.all())
        if not candidates:  # the usual tick: no look through a queue of thousands
            return 0
        waiting = await session.exec(
            select(OutboxMessage.person_id).where(
                col(OutboxMessage.person_id).in_([c[0] for c in candidates]),
                col(OutboxMessage.kind) == Kind.REJECTED,
                col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
            )
        )
        unsent = set(waiting.all())
    erased = 0
    for person_id, rejected_at in candidates:
        assert person_id is not None and rejected_at is not None
        if person_id in unsent and rejected_at > now - REJECTED_GRACE:
            continue
        try:
            await erase_person(ctx, RETENTION_ACTOR, person_id)
        except NotFound:
            continue
        erased += 1
    return erased
