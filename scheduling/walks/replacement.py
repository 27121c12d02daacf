"""After a late cancellation: "find a replacement", and the seat offered to free volunteers.

A walker who gives up a confirmed seat within ``LATE_CANCEL`` (24h) of the start, when the
seat is still free (the waitlist did not fill it), is sent a one-tap prompt
(``replace_prompt:signup:<id>``, button ``replace:<shift id>``). Tapping it calls
``request_replacement``: the organisation's free volunteers are offered the seat
(``replacement:shift:<id>:signup:<id>:person:<pid>``, button ``signup:<shift id>``). Accepting
is an ordinary sign-up, decided with the shift row locked, so the first to accept gets the
seat; later ones join the waitlist and are told so. Offers still queued when the seat is taken
are dropped by the dispatcher (``relevance.py``).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import String, bindparam, cast, exists, literal
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from models.tables import OutboxMessage, Person, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.due_planning import plan
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.walks.audience import free_volunteers, staffed_shifts
from scheduling.walks.shifts import get_shift
from scheduling.walks.signups import LATE_CANCEL

PROMPT = "replace_prompt:signup:"  # the prompt's dedupe key, before the sign-up's id


async def late_cancellation_prompts(
    ctx: Context, session: AsyncSession, now: datetime
) -> list[NewMessage]:
    """Prompt each walker who cancelled a confirmed seat late, while the seat is still free."""
    late = await _late_cancellations(session, now)
    if not late:
        return []
    free = await _seats_free(session, [shift.id or 0 for _, shift in late])
    return [
        plan(
            ctx,
            now,
            key=f"{PROMPT}{signup.id}",
            kind=Kind.REPLACE_PROMPT,
            person_id=signup.person_id,
            moment=signup.cancelled_at or now,
            expires_at=shift.start_at,
            shift_start=shift.start_at,
            payload={"shift_id": shift.id, "signup_id": signup.id},
        )
        for signup, shift in late
        if free.get(shift.id or 0, 0) > 0
    ]


def _prompt_key() -> ColumnElement[str]:
    """The prompt's dedupe key of the sign-up in the statement."""
    return literal(PROMPT, String).concat(cast(col(Signup.id), String))


async def _late_cancellations(session: AsyncSession, now: datetime) -> list[tuple[Signup, Shift]]:
    """Confirmed seats given up within ``LATE_CANCEL`` of a planned start still ahead, whose
    walker has not been prompted yet (those prompted are left out by the statement: the rule
    runs on every tick)."""
    params = {"now": now, "until": now + LATE_CANCEL, "cancelled_after": now - LATE_CANCEL}
    result = await session.exec(_late_statement(), params=params)
    return [
        (signup, shift)
        for signup, shift in result.all()
        if signup.cancelled_at is not None and shift.start_at - signup.cancelled_at <= LATE_CANCEL
    ]


@cache
def _late_statement() -> Select[Signup, Shift]:
    """Built once, its times bound as parameters (building it every tick cost more than
    running it)."""
    return (
        select(Signup, Shift)
        .join(Shift, col(Shift.id) == col(Signup.shift_id))
        .join(Person, col(Person.id) == col(Signup.person_id))
        .where(
            col(Shift.start_at) > bindparam("now"),
            col(Shift.start_at) <= bindparam("until"),
            col(Shift.status) == ShiftStatus.PLANNED,
            col(Signup.status) == SignupStatus.CANCELLED,
            col(Signup.confirmed_at).is_not(None),
            # within LATE_CANCEL of a start at most LATE_CANCEL ahead: not before now - LATE_CANCEL
            # (a bound that leaves out most early cancellations; the exact test is in Python)
            col(Signup.cancelled_at) > bindparam("cancelled_after"),
            col(Person.erased_at).is_(None),
            ~exists().where(col(OutboxMessage.dedupe_key) == _prompt_key()),
        )
    )


async def _seats_free(session: AsyncSession, shift_ids: list[int]) -> dict[int, int]:
    staffed = await staffed_shifts(session, shift_ids=sorted(set(shift_ids)))
    return {s.shift.id or 0: s.seats_free for s in staffed}


async def request_replacement(ctx: Context, person_id: int, shift_id: int) -> int:
    """Offer the seat a walker gave up late to the organisation's free volunteers.

    Returns how many were offered it. Refused unless this person cancelled a confirmed seat
    on this shift within 24 h of its start, the shift has not started and a seat is free.
    Asking twice offers nothing new.
    """
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id, lock=True)
        signup = await _late_cancellation(session, person_id, shift)
        if shift.status != ShiftStatus.PLANNED or shift.start_at <= now:
            raise DomainError("shift_started", shift=shift_id)
        if (await _seats_free(session, [shift_id])).get(shift_id, 0) <= 0:
            raise DomainError("replacement_not_needed", shift=shift_id)
        volunteers = await free_volunteers(session, shift)
        offers = [
            plan(
                ctx,
                now,
                key=f"replacement:shift:{shift_id}:signup:{signup.id}:person:{volunteer}",
                kind=Kind.REPLACEMENT_OFFER,
                person_id=volunteer,
                moment=now,
                expires_at=shift.start_at,
                shift_start=shift.start_at,
                payload={"shift_id": shift_id, "signup_id": signup.id},
            )
            for volunteer in volunteers
        ]
        if offers:
            await enqueue_many(session, offers, now)
        return len(offers)


async def _late_cancellation(session: AsyncSession, person_id: int, shift: Shift) -> Signup:
    result = await session.exec(
        select(Signup).where(col(Signup.shift_id) == shift.id, col(Signup.person_id) == person_id)
    )
    signup = result.first()
    late = (
        signup is not None
        and signup.status == SignupStatus.CANCELLED
        and signup.confirmed_at is not None
        and signup.cancelled_at is not None
        and shift.start_at - signup.cancelled_at <= LATE_CANCEL
    )
    if signup is None or not late:
        raise DomainError("no_late_cancellation", shift=shift.id)
    return signup
