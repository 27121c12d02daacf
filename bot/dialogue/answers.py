"""A bare "yes" typed as the answer to a yes/no question that was offered as numbered options.

By SMS (and the console) a question's options are answered with their number; "JA" or "YES"
alone answers one too, when the options offered last hold exactly one yes. Twilio's own YES
(an opt-in word) comes with ``Inbound.yes_only``: it answers such a question, or does nothing.
"""

from __future__ import annotations

from dataclasses import replace

from bot.dialogue.turn import Turn

YES_WORDS = frozenset({"JA", "YES"})
YES_ACTIONS = frozenset({"rep:issue:add"})  # a yes whose action does not end in ":yes"


def yes_action(offered: list[str]) -> str | None:
    """The one affirmative action among the options offered, if there is exactly one."""
    found = {a for a in offered if a.endswith(":yes") or a in YES_ACTIONS}
    return found.pop() if len(found) == 1 else None


def take_yes(turn: Turn) -> bool:
    """Turn a bare yes into the offered question's yes option. False when the input is to be
    left unanswered (a ``yes_only`` input with no question to answer)."""
    inbound = turn.inbound
    if inbound.text is None or inbound.action is not None or inbound.command is not None:
        return True
    if inbound.text.strip().upper().rstrip("!.") not in YES_WORDS:
        return not inbound.yes_only
    action = yes_action(list(turn.data.get("offered") or []))
    if action is not None:
        turn.inbound = replace(inbound, text=None, action=action)
        return True
    return not inbound.yes_only
