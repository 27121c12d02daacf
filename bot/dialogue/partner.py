"""What a partner (police contact, ordningsvakter, fritidsledare, Kalmar City) may do in chat:
nothing but their own language and data. They receive the morning picture; every other
command, button or text is answered with a word saying so (``/start`` and help with a short
welcome), so no list of shifts, no walker's name and no staff command ever reaches them."""

from __future__ import annotations

from bot.dialogue.turn import Turn
from scheduling.common.text import small_number

COMMANDS = frozenset({"language", "mydata", "delete", "cancel_flow"})
WELCOME = frozenset({"start", "help"})
ACTIONS = frozenset({"lang", "del", "reg"})  # the language, erasing oneself, registration
FLOWS = frozenset({"register"})


def is_partner(turn: Turn) -> bool:
    return turn.person is not None and turn.person.is_partner


def action_allowed(action: str) -> bool:
    return action.split(":", 1)[0] in ACTIONS


def turned_away(turn: Turn) -> bool:
    """Answer (and return True) anything a partner may not do; False lets it through."""
    inbound = turn.inbound
    if inbound.command in WELCOME:
        turn.end_flow()
        turn.say("partner.welcome")
        return True
    if inbound.command is not None:
        allowed = inbound.command in COMMANDS
    elif inbound.action is not None:
        allowed = action_allowed(inbound.action)
    elif inbound.contact_phone is not None or inbound.yes_only:
        allowed = False
    else:
        text = (inbound.text or "").strip()
        allowed = turn.flow in FLOWS or small_number(text) is not None
    if not allowed:
        turn.end_flow()
        if inbound.command == "alarm":  # no alarm from a partner, but 112 first, always
            turn.say("alarm.call_112", text="")
        turn.say("partner.only_morning")
    return not allowed


def refuse_action(turn: Turn) -> None:
    turn.say("partner.only_morning")
