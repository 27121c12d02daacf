"""A walker's card in chat, for their lead and the coordinator (``/vandrare``, ``/walkers``):
approval, the walk course, the police-record check and missed walks, with buttons to record
the course or a record check (today, or a date typed), and to approve a waiting walker.

Actions: ``wcard:<person>`` the card; ``wvet:<person>:course|record`` today;
``wvet:<person>:course|record:ask`` asks for a date (flow ``vetdate``). None of it by SMS.
"""

from __future__ import annotations

from datetime import date

from bot.dialogue.registry import Routes
from bot.dialogue.turn import Turn
from scheduling.common.errors import DomainError, InvalidInput
from scheduling.common.localtime import parse_date
from scheduling.common.text import small_number
from scheduling.messages.content import Option
from scheduling.people.vetting import set_vetting
from scheduling.walks.walker_cards import WalkerCard, walker_card, walker_cards

SHOWN = 12
FLOW = "vetdate"


def register(routes: Routes) -> None:
    routes.command("walkers", _list)
    routes.action("wcard", _card)
    routes.action("wvet", _vet)
    routes.flow(FLOW, _typed_date)


async def _list(turn: Turn, args: str) -> None:
    found = await walker_cards(turn.ctx, turn.actor, args)
    if not found:
        turn.say("walkers.none")
        return
    lines = [turn.text("walkers.title", count=len(found))]
    if len(found) > SHOWN:
        lines.append(turn.text("walkers.more", shown=SHOWN))
    options = [Option(c.name if c.approved else turn.text("walkers.waiting", name=c.name),
                      f"wcard:{c.id}") for c in found[:SHOWN]]
    turn.send("\n".join(lines), options=options)


def card_lines(turn: Turn, card: WalkerCard) -> list[str]:
    today = turn.ctx.now().astimezone(turn.ctx.zone).date()
    org = card.organisation or turn.text("walkers.no_organisation")
    lines = [turn.text("walkers.card_title", name=card.name, organisation=org),
             turn.text("walkers.approved" if card.approved else "walkers.pending")]
    lines.append(turn.text("walkers.course", date=card.course_on) if card.course_on
                 else turn.text("walkers.no_course"))
    if card.record_checked_on and card.record_until:
        key = "walkers.record_valid" if card.record_until >= today else "walkers.record_lapsed"
        lines.append(turn.text(key, date=card.record_checked_on, until=card.record_until))
    else:
        lines.append(turn.text("walkers.no_record"))
    lines.append(turn.text("walkers.no_shows", no_shows=card.no_shows, walks=card.walks)
                 if card.walks else turn.text("walkers.no_walks"))
    return lines


async def _show(turn: Turn, person_id: int) -> None:
    card = await walker_card(turn.ctx, turn.actor, person_id)
    options = [turn.option(f"walkers.{key}", f"wvet:{person_id}:{action}") for key, action in (
        ("course_today", "course"), ("record_today", "record"),
        ("course_other", "course:ask"), ("record_other", "record:ask"))]
    if not card.approved:
        options = [turn.option("lifecycle.approve", f"approve:{person_id}"),
                   turn.option("lifecycle.reject", f"reject:{person_id}"), *options]
    turn.send("\n".join(card_lines(turn, card)), options=options, edit_key=f"wcard:{person_id}")


def _parts(action: str) -> tuple[int, str, bool]:
    parts = action.split(":")
    person = small_number(parts[1]) if len(parts) >= 2 else None
    what = parts[2] if len(parts) >= 3 else ""
    if person is None or (parts[0] == "wvet" and what not in ("course", "record")):
        raise DomainError("stale_button")
    return person, what, parts[-1] == "ask"


async def _card(turn: Turn, action: str) -> None:
    await _show(turn, _parts(action)[0])


async def _vet(turn: Turn, action: str) -> None:
    person, what, ask = _parts(action)
    if ask:
        await walker_card(turn.ctx, turn.actor, person)  # refuses a stranger before asking
        turn.goto(FLOW, "date", person=person, what=what)
        turn.say("walkers.ask_date", example=turn.ctx.now().astimezone(turn.ctx.zone).date())
        return
    await _save(turn, person, what, turn.ctx.now().astimezone(turn.ctx.zone).date())


async def _typed_date(turn: Turn, text: str) -> None:
    try:
        day = parse_date(text.strip())
    except InvalidInput:
        turn.say("walkers.ask_date", example=turn.ctx.now().astimezone(turn.ctx.zone).date())
        return
    if day > turn.ctx.now().astimezone(turn.ctx.zone).date():
        turn.say("walkers.date_in_future", date=day)
        return
    person, what = int(turn.data.get("person") or 0), str(turn.data.get("what") or "")
    turn.end_flow()
    await _save(turn, person, what, day)


async def _save(turn: Turn, person_id: int, what: str, day: date) -> None:
    dates = {"course_on": day} if what == "course" else {"record_checked_on": day}
    done = await set_vetting(turn.ctx, turn.actor, person_id, **dates)
    turn.say("walkers.saved", name=done.name)
    await _show(turn, person_id)
