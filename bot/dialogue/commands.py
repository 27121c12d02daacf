"""The command vocabulary: every command's id, its names in chat and its SMS keywords.

One table for every channel: the dialogue's alias table (``/pass`` and ``/shifts`` are both
``shifts``), the SMS parser's keywords and the Telegram command menus are all derived from it.
The names are part of the outside interface (``docs/interface.md``): Swedish names are the
default menu, English ones the ``en`` menu, and both work for everyone who may use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Audience = Literal["anyone", "registered", "manager"]


@dataclass(frozen=True)
class Command:
    """One command. ``audience``: "anyone" works before registration too, "registered" is
    every walker's, "manager" a lead's or the coordinator's (never by SMS). ``menu``: the
    text key of its description in the Telegram menu, None for a command not listed."""

    id: str
    sv: str
    en: str
    audience: Audience = "registered"
    menu: str | None = None
    sms: tuple[str, ...] = ()  # keywords, folded: upper case, no accents
    aliases: tuple[str, ...] = ()  # further typed names (with accents)

    def name(self, language: str) -> str:
        return self.en if language == "en" else self.sv


VOCABULARY: tuple[Command, ...] = (
    Command("start", "start", "start", menu="menu.start"),
    Command("shifts", "pass", "shifts", menu="menu.shifts", sms=("PASS", "SHIFTS")),
    Command("my", "mina", "my", menu="menu.my", sms=("MINA", "MY")),
    Command("report", "rapport", "report", menu="menu.report", sms=("RAPPORT", "REPORT")),
    Command("help", "hjalp", "help", "anyone", "menu.help", ("HJALP", "HELP"), ("hjälp",)),
    Command("language", "sprak", "language", "anyone", "menu.language", aliases=("språk",)),
    Command("mydata", "mina_data", "mydata", menu="menu.mydata", sms=("MINA DATA", "MY DATA")),
    Command("delete", "radera", "delete", menu="menu.delete", sms=("RADERA", "DELETE")),
    Command("alarm", "larm", "alarm", sms=("LARM", "ALARM")),
    Command("false_alarm", "falskt_larm", "false_alarm", sms=("FALSKT LARM", "FALSE ALARM")),
    Command("late", "sen", "late", sms=("SEN", "LATE")),  # SEN 12 [minutes]: tell the group
    Command("share", "dela", "share", sms=("DELA", "SHARE")),  # DELA 12: one's number, one night
    Command("newshift", "nytt_pass", "newshift", "manager", "menu.newshift"),
    Command("staffing", "bemanning", "staffing", "manager", "menu.staffing"),
    Command("broadcast", "utskick", "broadcast", "manager", "menu.broadcast"),
    Command("stats", "statistik", "stats", "manager", "menu.stats"),
    Command("export", "export", "export", "manager", "menu.export"),
    Command("dashboard", "dashboard", "dashboard", "manager", "menu.dashboard"),
    Command("followups", "uppfoljning", "followups", "manager", "menu.followups",
            aliases=("uppföljning",)),
    # an announcement to one's walkers (not in the menus, whose lists are pinned)
    Command("announce", "meddelande", "announce", "manager"),
    # a walker turns announcements off or on
    Command("announcements_off", "utskick_av", "announcements_off",
            sms=("UTSKICK AV", "ANNOUNCEMENTS OFF")),
    Command("announcements_on", "utskick_pa", "announcements_on", aliases=("utskick_på",),
            sms=("UTSKICK PA", "ANNOUNCEMENTS ON")),
    Command("nights", "natter", "nights", "manager", "menu.nights"),
    Command("walkers", "vandrare", "walkers", "manager", "menu.walkers"),
    # Twilio answers CANCEL itself (an opt-out), so only the Swedish word leaves a flow by SMS.
    Command("cancel_flow", "avbryt", "cancel", "anyone", sms=("AVBRYT",)),
)

# A typed command name (Telegram, console, text) -> the command's id.
COMMANDS: dict[str, str] = {
    name: command.id
    for command in VOCABULARY
    for name in (command.sv, command.en, *command.aliases)
}
# Commands that work before registration.
OPEN_COMMANDS = frozenset(c.id for c in VOCABULARY if c.audience == "anyone")
# An SMS keyword alone (or with a page or shift number) -> the command's id.
SMS_COMMANDS: dict[str, str] = {
    keyword: command.id for command in VOCABULARY for keyword in command.sms
}
# An SMS keyword followed by a number (``JA 12``) -> the action it stands for (``signup:12``).
SMS_ACTIONS: dict[str, str] = {
    "JA": "signup",
    "YES": "signup",
    "NEJ": "cancel",
    "NO": "cancel",
    "AVBOKA": "cancel",
    "CANCEL": "cancel",  # only with a number: CANCEL alone is Twilio's opt-out word
    "IN": "in",
    "UT": "out",
    "OUT": "out",
    "KVITTERA": "ack:alert",  # acknowledge a safety alert: by SMS its reference follows
    "ACK": "ack:alert",
    "ERSATT": "replace",  # after a late cancellation: ask others to take the seat
    "REPLACE": "replace",
    # A lead's decisions below are recognised only to be refused by SMS (``trust.py``): a
    # sender number can be forged, so they are taken in Telegram or on the dashboard.
    "GENOMFOR": "keep",  # the final staffing check: the walk goes ahead
    "GO": "keep",
    "INSTALL": "cancelshift",  # the final staffing check: the walk is called off
    "CALLOFF": "cancelshift",
    "GODKANN": "approve",  # a new walker is approved (the person's number follows)
    "APPROVE": "approve",
    "NEKA": "reject",
    "REFUSE": "reject",
    "NARVARO": "att",  # after a shift: mark who came (the shift's number follows)
    "ATTENDANCE": "att",
}
SMS_ACK = frozenset({"KVITTERA", "ACK"})  # ``KVITTERA K7QM2X [code]``: an alert's reference
SMS_OPT_OUT = "STOPP"  # vandra's own opt-out word (Twilio answers STOP itself)
SMS_REGISTER = ("namn", "name")  # ``NAMN Anna Lind`` registers (when SMS registration is open)
# Keywords followed by free text (``LARM knivhot vid stationen``): the text is the argument.
SMS_WITH_TEXT = frozenset({"LARM", "ALARM"})
# Keywords followed by a shift number and one more number (``SEN 12 15``: 15 minutes late).
SMS_WITH_TWO_NUMBERS = frozenset({"SEN", "LATE"})
# Two-word keywords that may be followed by the one-time code confirming them
# (``FALSKT LARM 4821``: calling off one's alarm silences it for everyone alerted).
SMS_WITH_CODE = frozenset({"FALSKT LARM", "FALSE ALARM"})
# Keywords followed by a shift number and the one-time code confirming them (``UT 12 4821``:
# a check-out while the group's overdue check-out alert is open, ``safety.awaits_check_out``).
SMS_SHIFT_WITH_CODE = frozenset({"UT", "OUT"})


# A partner's menu: what they may use (``bot/dialogue/partner.py``), nothing of a walker's.
PARTNER_MENU = frozenset({"start", "help", "language", "mydata", "delete"})


def partner_menu() -> list[Command]:
    return [c for c in VOCABULARY if c.menu is not None and c.id in PARTNER_MENU]


def menu(manager: bool) -> list[Command]:
    """The commands of a Telegram menu, in order: every walker's, and a manager's too."""
    wanted = ("anyone", "registered", "manager") if manager else ("anyone", "registered")
    return [c for c in VOCABULARY if c.menu is not None and c.audience in wanted]
