"""The follow-up queue in chat (``/uppfoljning``, ``/followups``): staff only, never by SMS
(``trust.py``: a manager's command, and ``fu:`` is no SMS action). The list of those waiting,
one follow-up with its report's fixed answers and masked summary, a status change in one tap,
and a short note (masked like report text). A lead sees and changes only their own
organisation's; the core refuses anyone else, audited."""

from __future__ import annotations

from bot.dialogue.registry import Routes
from bot.dialogue.turn import Turn
from bot.followup_texts import guidance, when_text
from evaluation.followups import changes, queue
from evaluation.followups.queue import FollowUpView
from scheduling.common.text import small_number

FLOW = "followup_note"
STATUSES = ("open", "in_progress", "handled")


def register(routes: Routes) -> None:
    routes.command("followups", _list)
    routes.action("fu", _action)
    routes.flow(FLOW, _note_text)


async def _list(turn: Turn, args: str) -> None:
    views = await queue.list_follow_ups(turn.ctx, turn.actor)
    if not views:
        turn.say("followups.none")
        return
    lines = [turn.text("followups.title", count=len(views))]
    lines += [turn.text("followups.line", id=v.id, when=_when(turn, v), area=v.area,
                        organisation=v.organisation, status=_status(turn, v.status))
              for v in views]
    extra = guidance(turn.lang, turn.ctx)
    options = [turn.option("followups.show_button", f"fu:show:{v.id}", id=v.id, area=v.area)
               for v in views[-8:]]
    turn.send("\n".join([*lines, extra] if extra else lines), options=options)


async def _action(turn: Turn, action: str) -> None:
    parts = action.split(":")
    number = small_number(parts[2]) if len(parts) >= 3 else None
    if number is None or parts[1] not in ("show", "set", "note"):
        turn.say("common.stale_button")
        return
    if parts[1] == "set":
        status = parts[3] if len(parts) == 4 else ""
        await changes.set_status(turn.ctx, turn.actor, number, status)
        turn.say("followups.changed_to", id=number, status=_status(turn, status))
    elif parts[1] == "note":
        await queue.get_follow_up(turn.ctx, turn.actor, number)  # refused early, audited
        turn.goto(FLOW, "text", follow_up=number)
        turn.say("followups.note_ask")
        return
    await _show(turn, number)


async def _show(turn: Turn, follow_up_id: int) -> None:
    view = await queue.get_follow_up(turn.ctx, turn.actor, follow_up_id)
    options = [turn.option(f"followups.set_{s}", f"fu:set:{view.id}:{s}")
               for s in STATUSES if s != view.status]
    options.append(turn.option("followups.note_button", f"fu:note:{view.id}"))
    turn.send(_detail(turn, view), options=options)


def _detail(turn: Turn, v: FollowUpView) -> str:
    zone = turn.ctx.zone
    dash = turn.text("followups.dash")
    lines = [
        turn.text("followups.head", id=v.id, when=_when(turn, v), area=v.area,
                  organisation=v.organisation),
        turn.text("followups.state", status=_status(turn, v.status),
                  opened=f"{v.opened_at.astimezone(zone):%d/%m %H:%M}"),
        turn.text("followups.changed", at=f"{v.changed_at.astimezone(zone):%d/%m %H:%M}",
                  by=v.changed_by or turn.text("followups.someone")) if v.changed_at else "",
        turn.text("followups.answers", mood=_label(turn, "mood", v.mood) or dash,
                  youth=_label(turn, "youth", v.youth_met) or dash,
                  safe=_label(turn, "safe", v.felt_safe) or dash),
        turn.text("followups.help", kinds=", ".join(
            _label(turn, "help", k) or k for k in v.help_given)) if v.help_given else "",
        turn.text("followups.services", kinds=", ".join(
            _label(turn, "service", k) or k for k in v.services)) if v.services else "",
        turn.text("followups.summary", text=v.summary) if v.summary else "",
        turn.text("followups.note", text=v.note) if v.note else "",
        guidance(turn.lang, turn.ctx),
    ]
    return "\n".join(line for line in lines if line)


async def _note_text(turn: Turn, text: str) -> None:
    follow_up_id = int(turn.data.get("follow_up") or 0)
    turn.end_flow()
    result = await changes.set_note(turn.ctx, turn.actor, follow_up_id, text)
    turn.say("followups.note_saved", id=follow_up_id)
    if result.masked:
        kinds = ", ".join(turn.text(f"report.masked_{kind}") for kind in result.masked)
        turn.say("followups.note_masked", kinds=kinds)


def _when(turn: Turn, view: FollowUpView) -> str:
    return when_text(turn.lang, turn.ctx, view.start_at, view.end_at)


def _status(turn: Turn, status: str) -> str:
    key = f"followups.status.{status}"
    return turn.text(key) if status in STATUSES else status


def _label(turn: Turn, group: str, code: str | None) -> str | None:
    if not code:
        return None
    try:
        return turn.text(f"coordinator.{group}.{code}")
    except KeyError:
        return code
