"""What leads and the kommun coordinator look at in chat: staffing for the coming two weeks,
and a call for walkers to one shift (the role checks: ``roles``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, cast

from bot.dialogue import render
from bot.dialogue.registry import Routes
from bot.dialogue.roles import managed_scope, require_shift_manager
from bot.dialogue.turn import Turn
from scheduling.common.errors import DomainError
from scheduling.common.text import small_number
from scheduling.messages import broadcast
from scheduling.walks.cards import planned_shifts

STAFFING_DAYS = 14


def register(routes: Routes) -> None:
    routes.command("staffing", _staffing)
    routes.command("broadcast", _broadcast)
    routes.action("bc", _broadcast_action)


# --- staffing -----------------------------------------------------------------------------


async def _staffing(turn: Turn, args: str) -> None:
    """The coming two weeks, understaffed shifts first."""
    org = await managed_scope(turn, "staffing")
    now = turn.ctx.now()
    views = await planned_shifts(
        turn.ctx,
        start_from=now,
        start_before=now + timedelta(days=STAFFING_DAYS),
        organisation_id=org,
    )
    if not views:
        turn.say("staffing.none")
        return
    order = {"understaffed": 0, "ok": 1, "full": 2}
    views.sort(key=lambda v: (order[v.staffing], v.shift.start_at))
    lines = [
        turn.text(
            "staffing.line",
            line=render.list_line(v, turn.lang, turn.ctx.zone),
            staffing=turn.text(f"staffing.{v.staffing}"),
        )
        for v in views
    ]
    options = [
        turn.option("staffing.open", f"shift:{v.shift.id}", id=v.shift.id)
        for v in views
        if v.staffing == "understaffed"
    ][:8]
    turn.send("\n".join([turn.text("staffing.title", days=STAFFING_DAYS), *lines]), options=options)


# --- broadcast ----------------------------------------------------------------------------


async def _broadcast(turn: Turn, args: str) -> None:
    """Choose an upcoming shift, then the audience; each recipient gets a one-tap sign-up."""
    org = await managed_scope(turn, "broadcast")
    views = await planned_shifts(turn.ctx, start_from=turn.ctx.now(), organisation_id=org)
    views = views[:8]
    if not views:
        turn.say("staffing.none")
        return
    turn.say(
        "broadcast.choose_shift",
        options=[
            turn.option(
                "shifts.button",
                f"bc:shift:{v.shift.id}",
                line=render.list_line(v, turn.lang, turn.ctx.zone),
            )
            for v in views
        ],
    )


async def _broadcast_action(turn: Turn, action: str) -> None:
    parts = action.split(":")
    shift_id = small_number(parts[2]) if len(parts) >= 3 else None
    if shift_id is None:
        turn.say("common.stale_button")
        return
    if parts[1] == "shift":
        await require_shift_manager(turn, shift_id, "broadcast")
        options = [turn.option("broadcast.to_org", f"bc:org:{shift_id}")]
        if turn.actor.is_coordinator:
            options.append(turn.option("broadcast.to_everyone", f"bc:all:{shift_id}"))
        turn.say("broadcast.choose_audience", id=shift_id, options=options)
    elif parts[1] in ("org", "all"):
        await _call(turn, parts[1], shift_id, again=parts[3:] == ["again"])
    else:
        turn.say("common.stale_button")


async def _call(turn: Turn, kind: str, shift_id: int, again: bool) -> None:
    """``bc:org:<id>`` / ``bc:all:<id>``; within the alert window of an earlier call a
    coordinator is asked to confirm (``...:again``), a lead is told to wait."""
    audience = cast(
        Literal["organisation", "everyone"], "everyone" if kind == "all" else "organisation"
    )
    try:
        sent = await broadcast.call_for_walkers(
            turn.ctx, turn.actor, shift_id, audience, again=again
        )
    except DomainError as error:
        if error.code != "call_recently_made" or not turn.actor.is_coordinator:
            raise
        turn.say(
            "broadcast.again_confirm",
            id=shift_id,
            minutes=error.params.get("minutes"),
            options=[
                turn.option("broadcast.again_yes", f"bc:{kind}:{shift_id}:again"),
                turn.option("delete.no", "menu"),
            ],
        )
        return
    turn.say("broadcast.queued", id=shift_id, count=sent.recipients)

