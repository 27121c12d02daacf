"""The report's place issues: "any?" -> place -> (for another place, where, in a few words)
-> kind -> "another?"; the list is stored when the walker says no more.

A place not among ``[walks] places`` is named in the walker's own words (at most 60
characters, masked like the summary), so that the coordinator's list of places for the
kommun's fault reporting says where it is (evaluation/places/).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.dialogue.turn import Turn
from scheduling.common.errors import InvalidInput
from scheduling.common.text import small_number
from scheduling.walks import reports

FLOW = "report"
Save = Callable[[Turn, str, Any], Awaitable[None]]


async def place_issue(turn: Turn, what: str, value: str, save: Save) -> None:
    """One tap of the place-issue questions."""
    places = turn.ctx.settings.walks.places
    index = small_number(value)
    if index is not None and index >= len(places):
        index = None
    if what == "issue" and value == "none":
        await save(turn, "place_issues", list(turn.data.get("issues") or []))
    elif what == "issue" and value == "add":
        _ask_place(turn, places)
    elif what == "issue_place" and value == "other":
        turn.data["issue_place"] = reports.OTHER_PLACE
        turn.goto(FLOW, "issue_spot")
        turn.say("report.q_issue_spot")
    elif what == "issue_place" and index is not None:
        turn.data["issue_place"] = places[index]
        turn.data.pop("issue_spot", None)
        _ask_kind(turn)
    elif what == "issue_category" and value in reports.PLACE_ISSUES and "issue_place" in turn.data:
        _add_issue(turn, value)
    else:
        turn.say("common.stale_button")


async def spot_text(turn: Turn, text: str) -> None:
    """The walker's words for another place; then the kind of issue."""
    try:
        turn.data["issue_spot"] = reports.clean_spot(text)
    except InvalidInput:
        turn.say("report.q_issue_spot")
        return
    turn.goto(FLOW, "place_issues")
    _ask_kind(turn)


def _ask_place(turn: Turn, places: list[str]) -> None:
    options = [
        turn.option("report.place", f"rep:issue_place:{i}", place=p[:30])
        for i, p in enumerate(places)
    ]
    options.append(turn.option("report.place_other", "rep:issue_place:other"))
    turn.say("report.q_issue_place", options=options)


def _ask_kind(turn: Turn) -> None:
    turn.say(
        "report.q_issue_category",
        options=[
            turn.option(f"report.issue_{c}", f"rep:issue_category:{c}")
            for c in reports.PLACE_ISSUES
        ],
    )


def _add_issue(turn: Turn, kind: str) -> None:
    issues = list(turn.data.get("issues") or [])
    issue = {"place": str(turn.data.pop("issue_place")), "category": kind}
    spot = turn.data.pop("issue_spot", None)
    if spot and issue["place"] == reports.OTHER_PLACE:
        issue["spot"] = str(spot)
    issues.append(issue)
    turn.data["issues"] = issues
    turn.say(
        "report.q_more_issues",
        count=len(issues),
        options=[
            turn.option("report.yes", "rep:issue:add"),
            turn.option("report.no", "rep:issue:none"),
        ],
    )
