"""What leads and the kommun coordinator look at in chat: staffing for the coming two weeks,
and a call for walkers to one shift (the role checks: ``roles``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, cast

from bot.dialogue import render
from bot.dialogue.registry import Routes
from bot.dialogue.roles import managed_scope, require_shift_manager
from bot.dialogue.turn import Turn
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
        audience = cast(
            Literal["organisation", "everyone"], "everyone" if parts[1] == "all" else "organisation"
        )
        sent = await broadcast.call_for_walkers(turn.ctx, turn.actor, shift_id, audience)
        turn.say("broadcast.queued", id=shift_id, count=sent.recipients)
    else:
        turn.say("common.stale_button")

