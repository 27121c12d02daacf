"""The council's report in chat: chosen from ``/export``, sent as a PDF document in the
asker's language, for what they may see (a lead: their organisation). The core makes it off
the event loop (``evaluation.council``)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from bot.dialogue.registry import Routes
from bot.dialogue.turn import Turn
from bot.i18n import t
from evaluation import council
from scheduling.messages.content import Document

ACTION = "cr"


def register(routes: Routes) -> None:
    routes.action(ACTION, _report)


def month_so_far(turn: Turn) -> tuple[date, date]:
    today = turn.ctx.now().astimezone(turn.ctx.zone).date()
    return today.replace(day=1), today


def last_month(turn: Turn) -> tuple[date, date]:
    first_of_this = month_so_far(turn)[0]
    last = first_of_this - timedelta(days=1)
    return last.replace(day=1), last


async def _report(turn: Turn, action: str) -> None:
    """``cr:0`` this month so far, ``cr:1`` last month."""
    choice = action.split(":")[1:]
    if choice not in (["0"], ["1"]):
        turn.say("common.stale_button")
        return
    first, last = (month_so_far if choice == ["0"] else last_month)(turn)
    texts = partial(t, turn.lang)
    content = await council.council_report(
        turn.ctx, turn.actor, first, last, "pdf", turn.lang, texts
    )
    turn.send(
        turn.text("export.council_caption", first=first.isoformat(), last=last.isoformat()),
        document=Document(filename=council.filename(first, last, "pdf", texts), content=content),
    )
