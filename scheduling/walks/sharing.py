"""A walker shares their number with their group for one night (``DELA <id>``, a button).

Only one's own confirmed sign-up on a shift that has not ended, and only a number vandra
holds. The others confirmed on that shift get it (``shared:<share>:person:<pid>``, also those
who sign up later: ``shared_number_messages``, a due rule); nobody else sees it. The outbox
carries no number: it is read from the person when the message is sent, and the
``shared_number`` row is deleted when the shift ends (``forget_shared_numbers``, a tick step),
is cancelled, or the walker is no longer on it. After that the number is forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Delete, bindparam, delete, exists, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import first_write
from models.tables import (
    OutboxMessage,
    Person,
    SharedNumber,
    Shift,
    ShiftStatus,
    Signup,
    SignupStatus,
)
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages import doorbell
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.people.access import Actor
from scheduling.walks.my_group import first_name, others_on, own_signup


@dataclass(frozen=True)
class Shared:
    new: bool  # False: shared before, nothing more sent
    told: int  # people on the shift who get the number


async def share_number(ctx: Context, actor: Actor, shift_id: int) -> Shared:
    """Share the walker's number with the others on the shift, for that night only."""
    if actor.person_id is None:
        raise DomainError("street_not_signed_up", shift=shift_id)
    now = ctx.now()
    async with ctx.store.transaction() as session:
        await own_signup(session, actor.person_id, shift_id, now)
        person = await session.get(Person, actor.person_id)
        if person is None or not person.phone:
            raise DomainError("share_no_phone")
        found = await session.exec(
            select(SharedNumber).where(
                col(SharedNumber.shift_id) == shift_id,
                col(SharedNumber.person_id) == actor.person_id,
            )
        )
        if found.first() is not None:
            return Shared(new=False, told=0)
        share = SharedNumber(shift_id=shift_id, person_id=actor.person_id, created_at=now)
        session.add(share)
        await session.flush()
        told = await _messages_for(session, share, now)
        await enqueue_many(session, told, now)
    doorbell.ring(ctx.store)
    return Shared(new=True, told=len(told))


async def _messages_for(
    session: AsyncSession, share: SharedNumber, now: datetime
) -> list[NewMessage]:
    shift = await session.get(Shift, share.shift_id)
    sharer = await session.get(Person, share.person_id)
    assert shift is not None and sharer is not None
    payload = {"shift_id": share.shift_id, "share_id": share.id, "name": first_name(sharer.name)}
    return [
        NewMessage(key=f"shared:{share.id}:person:{pid}", kind=Kind.NUMBER_SHARED,
                   person_id=pid, due_at=now, payload=payload, expires_at=shift.end_at,
                   urgent=True)
        for pid in await others_on(session, share.shift_id, share.person_id)
    ]


async def shared_number_messages(
    ctx: Context, session: AsyncSession, now: datetime
) -> list[NewMessage]:
    """A due rule: walkers who joined a group after a number was shared get it too."""
    shares = await _live_shares(session, now)
    messages: list[NewMessage] = []
    for share in shares:
        wanted = await _messages_for(session, share, now)
        if not wanted:
            continue
        sent = await session.exec(
            select(OutboxMessage.dedupe_key).where(
                col(OutboxMessage.dedupe_key).in_([m.key for m in wanted])
            )
        )
        have = set(sent.all())
        messages += [m for m in wanted if m.key not in have]
    return messages


async def _live_shares(session: AsyncSession, now: datetime) -> list[SharedNumber]:
    """The shares of shifts not over and not cancelled. The shares (a handful: they are
    forgotten when a shift ends) lead, not the shifts ahead (a hundred thousand in a big
    town), so the tick pays nothing for them when nobody shares."""
    shares = (await session.exec(select(SharedNumber))).all()
    if not shares:
        return []
    live = set((await session.exec(select(Shift.id).where(
        col(Shift.id).in_({share.shift_id for share in shares}),
        col(Shift.end_at) > now,
        col(Shift.status) != ShiftStatus.CANCELLED,
    ))).all())
    return [share for share in shares if share.shift_id in live]


async def shared_phone(ctx: Context, share_id: int) -> str | None:
    """The number behind a share while it lasts; None once it is forgotten."""
    async with ctx.store.joined() as session:
        share = await session.get(SharedNumber, share_id)
        person = await session.get(Person, share.person_id) if share is not None else None
    if person is None or person.erased_at is not None:
        return None
    return person.phone


async def forget_shared_numbers(ctx: Context) -> int:
    """A tick step: delete the shares of shifts that have ended or were cancelled, and of
    walkers no longer on the shift; how many were forgotten."""
    async with ctx.store.transaction() as session:  # one statement: it stands alone
        result = await session.exec(
            _forget_statement(),
            params={"now": ctx.now()},
            execution_options={first_write.LONE_WRITE: True},
        )
    return int(result.rowcount or 0)


@cache
def _forget_statement() -> Delete:
    """Built once, the time bound as a parameter (it runs on every tick)."""
    of_shift = col(Shift.id) == col(SharedNumber.shift_id)
    still_on = exists().where(
        col(Signup.shift_id) == col(SharedNumber.shift_id),
        col(Signup.person_id) == col(SharedNumber.person_id),
        col(Signup.status) == SignupStatus.CONFIRMED,
    )
    over = exists().where(
        of_shift,
        or_(col(Shift.end_at) <= bindparam("now"), col(Shift.status) == ShiftStatus.CANCELLED),
    )
    return delete(SharedNumber).where(or_(over, ~still_on))
