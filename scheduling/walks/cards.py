"""What chat shows of shifts (cards): the coming planned ones, and one shift as a card saying what
its viewer may do with it (the same rules the use cases apply)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from models.tables import ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.people.access import Actor, require_manager
from scheduling.walks.card_statement import card_view
from scheduling.walks.group_lead import GroupLead
from scheduling.walks.shifts import (
    ShiftView,
    get_shift,
    shift_views,
)
from scheduling.walks.windows import alarm_open, check_in_open

CHECKED_IN = "checked_in"
CHECKED_OUT = "checked_out"


@dataclass(frozen=True)
class ShiftCard:
    """One shift for one person: their own part in it and the buttons that fit."""

    view: ShiftView
    my_status: str | None  # confirmed, waitlisted, offered, checked_in, checked_out; or None
    may_sign_up: bool
    full: bool  # signing up means joining the waitlist
    may_confirm_offer: bool
    may_cancel: bool
    may_check_in: bool
    may_check_out: bool
    may_report: bool
    may_cancel_shift: bool  # the viewer manages the shift's organisation
    may_raise_alarm: bool = False  # on the shift, from check-in opening until its end
    group_lead: GroupLead | None = None
    may_name_group_lead: bool = False  # a manager, until the shift ends


async def planned_shifts(
    ctx: Context,
    *,
    start_from: datetime,
    start_before: datetime | None = None,
    organisation_id: int | None = None,
) -> list[ShiftView]:
    """Planned (not cancelled) shifts starting in the range, in start order."""
    async with ctx.store.joined() as session:
        views = await shift_views(
            session,
            ctx,
            start_from=start_from,
            start_before=start_before,
            organisation_id=organisation_id,
        )
    return [view for view in views if view.shift.status == ShiftStatus.PLANNED]


async def shift_card(ctx: Context, actor: Actor, shift_id: int) -> ShiftCard:
    """The shift as ``actor`` (a person) sees it now: one statement (``card_statement``)."""
    assert actor.person_id is not None
    async with ctx.store.joined() as session:
        view, mine, lead = await card_view(session, ctx, shift_id, actor.person_id)
    return replace(card_of(view, my_status(mine), actor, ctx.now()), group_lead=lead)


async def require_shift_manager(ctx: Context, actor: Actor, shift_id: int, action: str) -> None:
    """Refuse (audited) anyone who may not manage this shift's organisation."""
    async with ctx.store.joined() as session:
        shift = await get_shift(session, shift_id)
    await require_manager(
        ctx.store, actor, action, shift.organisation_id, ctx.now(), target=f"shift:{shift_id}"
    )


def my_status(signup: Signup | None) -> str | None:
    """What a card says about the person's own sign-up."""
    if signup is None or signup.status == SignupStatus.CANCELLED:
        return None
    if signup.status == SignupStatus.CONFIRMED and signup.checked_in_at is not None:
        return CHECKED_OUT if signup.checked_out_at is not None else CHECKED_IN
    return signup.status


def card_of(view: ShiftView, status: str | None, actor: Actor, now: datetime) -> ShiftCard:
    shift = view.shift
    open_for_signup = shift.status == ShiftStatus.PLANNED and shift.start_at > now
    holds_place = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED, SignupStatus.OFFERED)
    return ShiftCard(
        view=view,
        my_status=status,
        may_sign_up=status is None and open_for_signup,
        full=view.seats_taken >= shift.max_walkers,
        may_confirm_offer=status == SignupStatus.OFFERED,
        may_cancel=status in holds_place and open_for_signup,
        may_check_in=status == SignupStatus.CONFIRMED
        and check_in_open(shift.start_at, shift.end_at, now),
        may_check_out=status == CHECKED_IN,
        may_report=status in (CHECKED_IN, CHECKED_OUT, SignupStatus.CONFIRMED)
        and shift.end_at <= now,
        may_cancel_shift=actor.may_manage(shift.organisation_id) and open_for_signup,
        may_raise_alarm=status in (SignupStatus.CONFIRMED, CHECKED_IN, CHECKED_OUT)
        and shift.status != ShiftStatus.CANCELLED
        and alarm_open(shift.start_at, shift.end_at, now),
        may_name_group_lead=actor.may_manage(shift.organisation_id)
        and shift.status == ShiftStatus.PLANNED
        and shift.end_at > now
        and view.confirmed > 0,
    )
