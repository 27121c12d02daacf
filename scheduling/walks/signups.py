"""Signing up, cancelling, checking in and out, no-shows; the waitlist is in waitlist.

Every decision about a seat is taken with the shift's row locked (``FOR UPDATE`` on PostgreSQL;
``BEGIN IMMEDIATE`` serialises writers on SQLite), so two people racing for the last seat cannot
both get it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import thin
from models.tables import Person, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, NotFound
from scheduling.people.access import Actor, audit, require_manager
from scheduling.people.directory import activity_stale, get_person
from scheduling.people.vetting import require_valid_record_check
from scheduling.walks.shifts import get_shift
from scheduling.walks.signup_queries import SIGNUPS_AND_CLASHES, signup_of
from scheduling.walks.view_statements import LOCKED_SHIFT_WITH_NAMES
from scheduling.walks.views import ShiftView, get_shift_view, shift_views, view_of_signups
from scheduling.walks.waitlist import expire_offers, promote_waitlisted
from scheduling.walks.windows import CHECK_IN_EARLY, CHECK_OUT_LATE

__all__ = [
    "CHECK_IN_EARLY",
    "CHECK_OUT_LATE",
    "LATE_CANCEL",
    "CancelResult",
    "SignupResult",
    "cancel_signup",
    "check_in",
    "check_out",
    "expire_offers",
    "mark_no_show",
    "my_shifts",
    "sign_up",
]

LATE_CANCEL = timedelta(hours=24)


@dataclass(frozen=True)
class SignupResult:
    outcome: Literal["confirmed", "waitlisted"]
    signup: Signup
    view: ShiftView
    waitlist_position: int | None = None


@dataclass(frozen=True)
class CancelResult:
    signup: Signup
    view: ShiftView
    held_seat: bool
    late: bool
    promoted_person_ids: list[int]


async def sign_up(ctx: Context, person_id: int, shift_id: int) -> SignupResult:
    """Take a seat while confirmed < max, else join the waitlist in arrival order.

    A person holding an offered seat (promoted from the waitlist) confirms it by signing up.
    Every refusal comes before the first write, so inside a unit (a dialogue turn) this needs
    no savepoint of its own: a refusal has written nothing, and a database error fails the
    whole turn.
    """
    now = ctx.now()
    async with ctx.store.joined() as session:
        person = await get_person(session, person_id)
        _require_registered(person)
        require_valid_record_check(ctx, person, now)
        shift, names = await _locked_shift(session, shift_id)
        _require_open(shift, now)
        of_shift, clashes = await _signups_and_clashes(session, shift, person_id)
        existing = next((s for s, _ in of_shift if s.person_id == person_id), None)
        if existing is not None and existing.status == SignupStatus.OFFERED:
            existing.status = SignupStatus.CONFIRMED
            existing.confirmed_at = now
            existing.offer_expires_at = None
            return await _result(session, ctx, shift, names, of_shift, existing, "confirmed")
        if existing is not None and existing.status != SignupStatus.CANCELLED:
            raise DomainError(f"already_{existing.status}", shift=shift_id)
        if clashes:
            raise DomainError("overlapping_shift", shift=shift_id, other=clashes[0])
        signup = await _take_place(session, shift, person, of_shift, existing, now)
        if activity_stale(person, now):
            person.last_active_at = now
        outcome: Literal["confirmed", "waitlisted"] = (
            "confirmed" if signup.status == SignupStatus.CONFIRMED else "waitlisted"
        )
        return await _result(session, ctx, shift, names, of_shift, signup, outcome)


async def _locked_shift(
    session: AsyncSession, shift_id: int
) -> tuple[Shift, tuple[str, str, str | None]]:
    """The shift, locked, with its organisation's and area's names and its meeting point."""
    found = await thin.objects(session, LOCKED_SHIFT_WITH_NAMES, {"shift_id": shift_id})
    locked = found[0] if found else None
    if locked is None:
        raise NotFound("shift", shift_id)
    return locked[0], (locked[1], locked[2], locked[3])


async def _signups_and_clashes(
    session: AsyncSession, shift: Shift, person_id: int
) -> tuple[list[tuple[Signup, bool]], list[int]]:
    """In one read: the shift's sign-ups (each with whether its walker is trained), and the
    shifts on which the person holds a seat that overlap this one.

    Read after the lock is held: in PostgreSQL's READ COMMITTED a statement sees what was
    committed when it started, so the lock cannot be taken in the same statement."""
    params = {
        "shift_id": shift.id,
        "person_id": person_id,
        "start_at": shift.start_at,
        "end_at": shift.end_at,
    }
    rows = await thin.objects(session, SIGNUPS_AND_CLASHES, params)
    of_shift = [(row[0], bool(row[1])) for row in rows if row[0].shift_id == shift.id]
    clashes = sorted(row[0].shift_id for row in rows if row[0].shift_id != shift.id)
    return of_shift, clashes


async def _take_place(
    session: AsyncSession,
    shift: Shift,
    person: Person,
    of_shift: list[tuple[Signup, bool]],
    existing: Signup | None,
    now: datetime,
) -> Signup:
    """A seat while confirmed < max, else the end of the waitlist: a cancelled sign-up
    reused, else a new one, written at once (``models/thin.py``) and added to ``of_shift``."""
    seats_taken = sum(1 for s, _ in of_shift if s.status in SignupStatus.HOLDS_SEAT)
    status = SignupStatus.CONFIRMED if seats_taken < shift.max_walkers else SignupStatus.WAITLISTED
    place = {
        "status": status,
        "queued_at": now,
        "confirmed_at": now if status == SignupStatus.CONFIRMED else None,
        "cancelled_at": None,
        "offer_expires_at": None,
    }
    if existing is not None:
        for name, value in place.items():
            setattr(existing, name, value)
        return existing
    new = {"shift_id": shift.id, "person_id": person.id} | place
    signup = await thin.insert(session, Signup, new)
    of_shift.append((signup, person.trained))
    return signup


async def _result(
    session: AsyncSession,
    ctx: Context,
    shift: Shift,
    names: tuple[str, str, str | None],
    of_shift: list[tuple[Signup, bool]],
    signup: Signup,
    outcome: Literal["confirmed", "waitlisted"],
) -> SignupResult:
    """The outcome, with the shift's view counted from its sign-ups in hand (all of them were
    read under the lock, and this one is written)."""
    session.add(signup)
    await session.flush()
    position = None
    if outcome == "waitlisted":
        line = sorted(
            (s for s, _ in of_shift if s.status == SignupStatus.WAITLISTED),
            key=lambda s: (s.queued_at, s.id or 0),
        )
        position = next(n for n, s in enumerate(line, start=1) if s is signup)
    view = view_of_signups(ctx, shift, names, of_shift)
    return SignupResult(outcome=outcome, signup=signup, view=view, waitlist_position=position)


def _require_registered(person: Person) -> None:
    if person.erased_at is not None:
        raise DomainError("person_not_found", ref=str(person.id))
    if not person.may_walk:
        raise DomainError("consent_required")
    if not person.approved:
        raise DomainError("approval_pending")


def _require_open(shift: Shift, now: datetime) -> None:
    if shift.status == ShiftStatus.CANCELLED:
        raise DomainError("shift_cancelled", shift=shift.id)
    if shift.start_at <= now:
        raise DomainError("shift_started", shift=shift.id)


async def cancel_signup(ctx: Context, person_id: int, shift_id: int) -> CancelResult:
    """Give up a seat or a waitlist place; a freed seat goes to the first in line."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id, lock=True)
        signup = await signup_of(session, shift_id, person_id)
        if signup is None or signup.status == SignupStatus.CANCELLED:
            raise DomainError("not_signed_up", shift=shift_id)
        if shift.start_at <= now:
            raise DomainError("shift_started", shift=shift_id)
        held_seat = signup.status in SignupStatus.HOLDS_SEAT
        signup.status = SignupStatus.CANCELLED
        signup.cancelled_at = now
        signup.offer_expires_at = None
        session.add(signup)
        await session.flush()
        promoted = await promote_waitlisted(session, ctx, shift, now) if held_seat else []
        view = await get_shift_view(session, ctx, shift_id)
        late = held_seat and shift.start_at - now <= LATE_CANCEL
        return CancelResult(
            signup=signup, view=view, held_seat=held_seat, late=late, promoted_person_ids=promoted
        )


async def check_in(ctx: Context, person_id: int, shift_id: int) -> tuple[Signup, bool]:
    """Record arrival at the muster; True when this call changed something."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
        signup = await _confirmed_signup(session, shift_id, person_id)
        if shift.status == ShiftStatus.CANCELLED:
            raise DomainError("shift_cancelled", shift=shift_id)
        if now < shift.start_at - CHECK_IN_EARLY:
            raise DomainError("check_in_too_early", shift=shift_id)
        if now > shift.end_at + CHECK_OUT_LATE:
            raise DomainError("shift_over", shift=shift_id)
        if signup.checked_in_at is not None:
            return signup, False
        signup.checked_in_at = now
        if signup.no_show:  # marked absent, then came after all: the count follows the flag
            signup.no_show = False
            person = await get_person(session, person_id)
            person.no_show_count = max(0, person.no_show_count - 1)
            session.add(person)
        session.add(signup)
        return signup, True


async def check_out(ctx: Context, person_id: int, shift_id: int) -> tuple[Signup, bool]:
    """Record the end of one's walk; True when this call changed something."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
        signup = await _confirmed_signup(session, shift_id, person_id)
        if signup.checked_in_at is None:
            raise DomainError("not_checked_in", shift=shift_id)
        if now < shift.start_at:
            raise DomainError("check_out_too_early", shift=shift_id)
        if now > shift.end_at + CHECK_OUT_LATE:
            raise DomainError("shift_over", shift=shift_id)
        if signup.checked_out_at is not None:
            return signup, False
        signup.checked_out_at = now
        session.add(signup)
        return signup, True


async def _confirmed_signup(session: AsyncSession, shift_id: int, person_id: int) -> Signup:
    signup = await signup_of(session, shift_id, person_id)
    if signup is None or signup.status != SignupStatus.CONFIRMED:
        raise DomainError("not_confirmed", shift=shift_id)
    return signup


async def mark_no_show(ctx: Context, actor: Actor, shift_id: int, person_id: int) -> Signup:
    """A lead or coordinator records that a confirmed walker did not come (kept for follow-up)."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
    await require_manager(
        ctx.store, actor, "signups.no_show", shift.organisation_id, now, target=f"shift:{shift_id}"
    )
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
        if shift.start_at > now:
            raise DomainError("shift_not_started", shift=shift_id)
        signup = await _confirmed_signup(session, shift_id, person_id)
        if signup.no_show:
            return signup
        if signup.checked_in_at is not None:
            raise DomainError("checked_in_not_absent", shift=shift_id)
        signup.no_show = True
        person = await get_person(session, person_id)
        person.no_show_count += 1
        session.add_all([signup, person])
        audit(session, actor, "signups.no_show", now, target=f"signup:{signup.id}")
        return signup


async def my_shifts(ctx: Context, person_id: int) -> list[tuple[ShiftView, Signup]]:
    """A person's sign-ups on shifts that have not ended, in start order."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        result = await session.exec(
            select(Signup)
            .join(Shift, col(Shift.id) == col(Signup.shift_id))
            .where(
                col(Signup.person_id) == person_id,
                col(Signup.status) != SignupStatus.CANCELLED,
                col(Shift.end_at) > now,
            )
        )
        signups = {s.shift_id: s for s in result.all()}
        views = await shift_views(session, ctx, shift_ids=list(signups)) if signups else []
        return [(view, signups[view.shift.id or 0]) for view in views]
