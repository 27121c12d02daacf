"""The post-walk report as a dialogue: mostly taps, under a minute, "nothing happened" in one.

Each question is one message with options (buttons in Telegram, numbers by SMS and in the
console). Multi-choice questions toggle options until "done". The draft is saved after every
answer, so the report can be skipped and resumed with /rapport; it can be corrected for 24 h.
"""

from __future__ import annotations

from typing import Any

from bot.dialogue.registry import Routes
from bot.dialogue.report_places import place_issue, spot_text
from bot.dialogue.turn import Turn
from evaluation.followups.opening import open_follow_ups
from scheduling.common.errors import DomainError
from scheduling.common.text import small_number
from scheduling.walks import reports
from scheduling.walks.report_views import latest_walked_shift

FLOW = "report"
SINGLE = {
    "youth_met": reports.YOUTH_BUCKETS,
    "mood": reports.MOODS,
    "alcohol": reports.ALCOHOL,
    "drugs": ("yes", "no"),
    "felt_safe": reports.FELT_SAFE,
    "follow_up": ("yes", "no"),
}
MULTI = {"help_given": reports.HELP_KINDS, "services_contacted": reports.SERVICES}
ORDER = (
    "walkers_present",
    "youth_met",
    "mood",
    "alcohol",
    "drugs",
    "help_given",
    "services_contacted",
    "areas",
    "place_issues",
    "felt_safe",
    "follow_up",
    "summary",
)


def register(routes: Routes) -> None:
    routes.command("report", _command)
    routes.action("report", _start_from_button)
    routes.action("rep", _action)
    routes.flow(FLOW, _text)


async def _command(turn: Turn, args: str) -> None:
    shift = small_number(args)
    if shift is not None:
        await _open(turn, shift)
        return
    shift_id = await latest_walked_shift(turn.ctx, turn.person_id)
    if shift_id is None:
        turn.say("report.nothing_to_report")
        return
    await _open(turn, shift_id)


async def _start_from_button(turn: Turn, action: str) -> None:
    shift = small_number(action.split(":", 1)[1]) if ":" in action else None
    if shift is None:
        turn.say("common.stale_button")
        return
    await _open(turn, shift)


async def _open(turn: Turn, shift_id: int) -> None:
    report = await reports.open_report(turn.ctx, turn.person_id, shift_id)
    turn.goto(FLOW, "intro", report_id=report.id, shift_id=shift_id, picked=[], issues=[])
    correcting = report.status == "submitted"
    options = [
        turn.option("report.fill_in", "rep:begin"),
        turn.option("report.later", "rep:later"),
    ]
    if not correcting:  # one tap must never wipe a submitted report's answers
        options.insert(0, turn.option("report.nothing_happened", "rep:nothing"))
    turn.say("report.intro_correct" if correcting else "report.intro", id=shift_id, options=options)


async def _action(turn: Turn, action: str) -> None:
    if turn.flow != FLOW or not turn.data.get("report_id"):
        turn.say("common.stale_button")
        return
    parts = action.split(":")
    what, value = parts[1] if len(parts) > 1 else "", ":".join(parts[2:])
    if what == "nothing":
        await _finish(turn, None, nothing_happened=True)
    elif what == "begin":
        await _ask(turn, "walkers_present")
    elif what == "later":
        turn.end_flow()
        turn.say("report.saved_for_later")
    elif what == "skip" and turn.step == "summary":
        await _finish(turn, None)
    elif what in SINGLE and turn.step == what and value in SINGLE[what]:
        stored: Any = value if what not in ("drugs", "follow_up") else value == "yes"
        await _save(turn, what, stored)
    elif what == "walkers_present" and turn.step == what and small_number(value) is not None:
        await _save(turn, what, small_number(value))
    elif what in (*MULTI, "areas") and turn.step == what:
        await _toggle(turn, what, value)
    elif what in ("issue", "issue_place", "issue_category") and turn.step == "place_issues":
        await place_issue(turn, what, value, _save)
    else:
        turn.say("common.stale_button")


async def _text(turn: Turn, text: str) -> None:
    """Free text in the report flow: the summary, a number of walkers, or an option's number."""
    step = turn.step
    offered = turn.data.get("offered") or []
    numbers = [n for p in text.replace(",", " ").split() if (n := small_number(p)) is not None]
    if step == "summary" and text:
        await _finish(turn, text)
    elif step == "issue_spot" and text:
        await spot_text(turn, text)
    elif step == "walkers_present" and len(numbers) == 1 and 1 <= numbers[0] <= 100:
        await _save(turn, "walkers_present", numbers[0])
    elif step in (*MULTI, "areas") and numbers and all(1 <= n <= len(offered) for n in numbers):
        for n in numbers:  # SMS and console: "1 3" picks options 1 and 3 and moves on
            action = offered[n - 1]
            if not action.endswith(":done"):
                turn.data["picked"] = _toggled(turn.data.get("picked") or [], action.split(":")[-1])
        await _toggle(turn, step, "done")
    elif len(numbers) == 1 and 1 <= numbers[0] <= len(offered):
        await _action(turn, offered[numbers[0] - 1])
    else:
        turn.say("report.use_options")
        await _ask(turn, step or "walkers_present")


async def _save(turn: Turn, field: str, value: Any) -> None:
    try:
        await reports.answer(turn.ctx, int(turn.data["report_id"]), turn.person_id, field, value)
    except DomainError as error:
        if error.code != "bad_report_answer":
            turn.end_flow()  # closed for good (24 hours over, marked absent): leave the flow
        raise
    await _ask(turn, ORDER[ORDER.index(field) + 1])


async def _ask(turn: Turn, step: str) -> None:
    turn.goto(FLOW, step)
    if step == "walkers_present" and turn.inbound.channel != "telegram":
        turn.say("report.q_walkers_present_typed")  # a typed digit is the count, not an option
    elif step == "walkers_present":
        turn.say(
            "report.q_walkers_present",
            options=[turn.option("report.n", f"rep:walkers_present:{n}", n=n) for n in range(2, 7)],
        )
    elif step in SINGLE:
        turn.say(
            f"report.q_{step}",
            options=[turn.option(f"report.{step}_{v}", f"rep:{step}:{v}") for v in SINGLE[step]],
        )
    elif step in (*MULTI, "areas"):
        turn.data["picked"] = []
        _ask_multi(turn, step)
    elif step == "place_issues":
        turn.say(
            "report.q_place_issues",
            options=[
                turn.option("report.no", "rep:issue:none"),
                turn.option("report.yes", "rep:issue:add"),
            ],
        )
    elif step == "summary":
        turn.say("report.q_summary", options=[turn.option("report.skip", "rep:skip")])


def _ask_multi(turn: Turn, step: str) -> None:
    picked = turn.data.get("picked") or []
    choices = _multi_choices(turn, step)
    options = [
        turn.option(
            "report.picked" if key in picked else "report.not_picked",
            f"rep:{step}:{key}",
            label=label,
        )
        for key, label in choices
    ]
    options.append(turn.option("report.done", f"rep:{step}:done"))
    turn.say(f"report.q_{step}", options=options, edit_key=f"rep:{step}")


def _multi_choices(turn: Turn, step: str) -> list[tuple[str, str]]:
    if step == "areas":
        places = turn.ctx.settings.walks.places
        return [(str(i), p) for i, p in enumerate(places)] + [
            ("other", turn.text("report.place_other"))
        ]
    return [(key, turn.text(f"report.{step}_{key}")) for key in MULTI[step]]


def _toggled(picked: list[str], key: str) -> list[str]:
    return [p for p in picked if p != key] if key in picked else [*picked, key]


async def _toggle(turn: Turn, step: str, value: str) -> None:
    valid = {key for key, _ in _multi_choices(turn, step)}
    if value == "done":
        picked = [p for p in turn.data.get("picked") or [] if p in valid]
        await _save(turn, step, _stored_choice(turn, step, picked))
        return
    if value not in valid:
        turn.say("common.stale_button")
        return
    turn.data["picked"] = _toggled(turn.data.get("picked") or [], value)
    _ask_multi(turn, step)


def _stored_choice(turn: Turn, step: str, picked: list[str]) -> list[str]:
    if step != "areas":
        return picked
    places = turn.ctx.settings.walks.places
    return [places[int(p)] if p.isdigit() else reports.OTHER_PLACE for p in picked]


async def _finish(turn: Turn, summary: str | None, nothing_happened: bool = False) -> None:
    try:
        result = await reports.submit(
            turn.ctx,
            int(turn.data["report_id"]),
            turn.person_id,
            summary,
            nothing_happened=nothing_happened,
        )
    except DomainError:
        turn.end_flow()
        raise
    shift_id = turn.data.get("shift_id")
    turn.end_flow()
    if result.report.follow_up:
        await open_follow_ups(turn.ctx, result.report.id)  # the coordinator is told at once
    key = "report.corrected" if result.corrected else "report.thanks"
    turn.say(key, id=shift_id)
    if result.masked:
        kinds = ", ".join(turn.text(f"report.masked_{kind}") for kind in result.masked)
        turn.say("report.masked", kinds=kinds)
