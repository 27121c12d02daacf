"""What an input may reach, by the trust its channel deserves (``docs/security.md``).

Telegram and the console prove who is writing; an SMS is named by its From number alone, which
can be forged (the answers, though, go to the number's real owner). So by SMS a person does
what a walker does with their own sign-ups and reports, and nothing else: a lead's or the
coordinator's command, option or flow is refused with a word that it is done in Telegram or on
the dashboard, whatever way it was asked for (a keyword, an option's number, a typed action).
Deny by default: an action not listed here is refused by SMS. Erasing oneself and acknowledging
a safety alert are confirmed with a one-time code (``scheduling.people.confirmations``); the
core refuses them too without one (``Actor.trusted``). So is a check-out that an open overdue
check-out alert waits for (``volunteer._check_out``; in the dialogue only).
"""

from __future__ import annotations

from bot.dialogue.commands import VOCABULARY
from bot.dialogue.turn import Turn
from scheduling.people.access import UNTRUSTED_CHANNELS
from scheduling.people.access import refuse as core_refuse

# Option actions an SMS may run (the prefix before the first ":").
SMS_ACTIONS = frozenset(
    {"page", "shift", "signup", "cancel", "in", "checkin", "out", "report", "rep", "replace",
     "lang", "menu", "reg", "ack", "late", "share", "ann"}
)
# Flows whose free text an SMS may answer.
SMS_FLOWS = frozenset({"report", "register"})
MANAGER_COMMANDS = frozenset(c.id for c in VOCABULARY if c.audience == "manager")
# What the audit trail calls a manager command (the core's own names for them).
AUDITED_AS = {"newshift": "shifts.add", "stats": "stats.view", "dashboard": "dashboard.link",
              "followups": "followups.view", "announce": "broadcast.send",
              "nights": "nights.list", "walkers": "people.list"}
AUDITED_ACTIONS = {"sc": "shifts.cancel", "cancelshift": "shifts.cancel", "keep": "staffing",
                   "bc": "broadcast", "ns": "shifts.add", "ex": "export",
                   "ack": "alerts.acknowledge", "del": "people.remove",
                   "fu": "followups.update", "ed": "shifts.edit", "an": "broadcast.send",
                   "night": "nights.claim", "nreserve": "nights.reserve",
                   "ngive": "nights.give_back", "nalloc": "nights.allocate",
                   "nights": "nights.list", "wcard": "people.card", "wvet": "people.vetting"}


def untrusted(channel: str) -> bool:
    return channel in UNTRUSTED_CHANNELS


def command_allowed(channel: str, command: str) -> bool:
    """Whether a command may run from ``channel`` (a manager's never by SMS)."""
    return not (untrusted(channel) and command in MANAGER_COMMANDS)


def action_allowed(channel: str, action: str) -> bool:
    """Whether an option's action may run from ``channel``. By SMS, an alert is acknowledged
    only by its random reference (``ack:ref:<ref>``), never by a guessable id."""
    if not untrusted(channel):
        return True
    prefix = action.split(":", 1)[0]
    if prefix == "ack":
        return action.startswith("ack:ref:")
    return prefix in SMS_ACTIONS


def flow_allowed(channel: str, flow: str) -> bool:
    return not untrusted(channel) or flow in SMS_FLOWS


async def refuse(turn: Turn, what: str) -> None:
    """Say that this is done in Telegram or on the dashboard, and audit the refusal (only a
    registered person's: an unknown number has no actor)."""
    if turn.person is not None:
        await core_refuse(turn.ctx.store, turn.actor, what, turn.ctx.now())
    turn.say("sms.elsewhere")


def audit_name(command: str | None = None, action: str | None = None) -> str:
    if command is not None:
        return AUDITED_AS.get(command, command)
    prefix = (action or "").split(":", 1)[0]
    return AUDITED_ACTIONS.get(prefix, prefix)
