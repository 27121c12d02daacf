"""The SMS channel's words: keywords in, GSM-7 text out (``docs/interface.md``).

Case, accents (HJALP = HJÄLP), extra spaces and punctuation or emoji around a word (``Larm!``,
``UT 12.``) do not matter for vandra's keywords. A message that is exactly one of Twilio's own
opt-out or opt-in words (STOP, START, ...) has been handled by Twilio: vandra records the
opt-out or opt-in and answers nothing. Twilio's HELP and INFO get vandra's own help. Those
words are matched as typed (ASCII letters, any case), never after folding: "Stöp" is not STOP;
vandra's own opt-out ``STOPP`` likewise, but with punctuation around it allowed (``Stopp.``).
vandra's own keywords are never one of Twilio's words alone: cancelling is ``NEJ 12`` or
``CANCEL 12``. Twilio's YES (an opt-in) also answers a yes/no question the
dialogue has pending (``Inbound.yes_only``). A safety alert is acknowledged by its random
reference, with the one-time code that confirms it: ``KVITTERA K7QM2X 4821``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Literal

from bot.channels.gsm7 import to_gsm7
from bot.dialogue.commands import (
    SMS_ACK,
    SMS_ACTIONS,
    SMS_COMMANDS,
    SMS_OPT_OUT,
    SMS_REGISTER,
    SMS_SHIFT_WITH_CODE,
    SMS_WITH_CODE,
    SMS_WITH_TEXT,
    SMS_WITH_TWO_NUMBERS,
)
from bot.dialogue.turn import Inbound
from scheduling.common.text import small_number
from scheduling.messages.content import Outgoing

TWILIO_OPT_OUT = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
TWILIO_OPT_IN = frozenset({"START", "YES", "UNSTOP"})
# Twilio's help words: answered with vandra's own help (Twilio answers them itself only on
# numbers in the US and Canada, and there only with its generic text).
TWILIO_HELP = frozenset({"HELP", "INFO"})
MAX_BODY = 1600

Special = Literal["twilio_opt_out", "twilio_opt_in", "opt_out", "opt_in"]


@dataclass(frozen=True)
class Parsed:
    """What a text message asks for: dialogue input, or an opt-out/opt-in to record."""

    inbound: Inbound | None = None
    special: Special | None = None


def fold(text: str) -> str:
    """Upper case, accents removed (Ä -> A), invisible format characters (zero-width space,
    byte-order mark) dropped, runs of spaces folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(
        c for c in decomposed
        if not unicodedata.combining(c) and unicodedata.category(c) != "Cf"
    )
    return " ".join(plain.upper().split())


_NAME = re.compile(r"^\s*(" + "|".join(SMS_REGISTER) + r")\b[\s:]*(.*)$", re.IGNORECASE | re.DOTALL)


def as_typed(text: str) -> str:
    """Upper case and single spaces, letters untouched: how Twilio's words are matched. Only
    ASCII counts (else ""), so no accent, width or ligature turns another word into STOP."""
    return " ".join(text.upper().split()) if text.isascii() else ""


def special(text: str) -> Special | None:
    """Twilio's own opt-out and opt-in words, matched as typed, and vandra's STOPP, which may
    have punctuation around it (``Stopp.``, ``STOPP!``): a wish to stop is never missed over a
    full stop. Twilio's HELP and INFO are not special: vandra answers them with its own help."""
    typed = as_typed(text)
    if typed in TWILIO_OPT_OUT:
        return "twilio_opt_out"
    if typed in TWILIO_OPT_IN:
        return "twilio_opt_in"
    return "opt_out" if typed.strip(_ASCII_PUNCTUATION) == SMS_OPT_OUT else None


_ASCII_PUNCTUATION = " .,!?;:-"
# Punctuation, symbols and emoji at either end of a word: ``LARM!`` is LARM, ``12.`` is 12.
_WORD_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
# A keyword with free text after it, found in the text as written (``🚨 Larm: kniv``).
_WITH_TEXT = re.compile(
    r"^[\W_]*(?:" + "|".join(sorted(SMS_WITH_TEXT)) + r")\b[\s:;,.!?\-\u2013\u2014]*(.*)$",
    re.IGNORECASE | re.DOTALL,
)


def keywords(folded: str) -> list[str]:
    """A folded text's words with the punctuation and symbols around each dropped, and words
    that are nothing but symbols (an emoji, a dash) left out: what keywords are matched on.
    A tired or frightened walker types ``Larm!``, ``UT 12.`` or ``🚨 LARM``."""
    words = [w for w in (_WORD_EDGES.sub("", word) for word in folded.split(" ")) if w]
    return words or [""]


_REF = re.compile(r"[A-Z0-9]{4,12}")


def yes_answer(phone: str) -> Inbound:
    """Twilio's YES as dialogue input: the answer to a pending yes/no question, or nothing."""
    return Inbound(channel="sms", address=phone, phone=phone, text="YES", yes_only=True)


def parse(body: str, phone: str) -> Parsed:
    """Read one text message from ``phone`` (E.164)."""
    text = body[:MAX_BODY].strip()
    folded = fold(text)
    base = Inbound(channel="sms", address=phone, phone=phone)
    found = special(text)
    if found is not None:
        return Parsed(special=found)
    if as_typed(text) in TWILIO_HELP:
        return Parsed(replace(base, command="help"))
    words = keywords(folded)
    number = small_number(words[1]) if len(words) == 2 else None
    action = _action(base, words, number)
    if action is not None:
        return Parsed(action)
    if words[0] in SMS_WITH_TEXT:  # LARM [text]: the text as written, after the keyword
        with_text = _WITH_TEXT.match(text)
        rest = with_text.group(1).strip() if with_text else ""
        return Parsed(replace(base, command=SMS_COMMANDS[words[0]], args=rest[:300]))
    if words[0] in SMS_WITH_TWO_NUMBERS and len(words) == 3 and small_number(words[1]) is not None:
        return Parsed(replace(base, command=SMS_COMMANDS[words[0]], args=" ".join(words[1:])))
    pair = " ".join(words[:2])
    if pair in SMS_WITH_CODE and len(words) == 3 and small_number(words[2]) is not None:
        return Parsed(replace(base, command=SMS_COMMANDS[pair], args=words[2]))
    name = _NAME.match(text)
    if name:
        return Parsed(replace(base, command="register", args=name.group(2)[:80]))
    for length in (2, 1):
        head = " ".join(words[:length])
        if head in SMS_COMMANDS and (
            len(words) == length
            or (length == 1 and number is not None)
        ):
            args = " ".join(words[length:])
            return Parsed(replace(base, command=SMS_COMMANDS[head], args=args))
    return Parsed(replace(base, text=text))


def _action(base: Inbound, words: list[str], number: int | None) -> Inbound | None:
    """A keyword with a shift number (``JA 12``; ``UT 12 4821`` with its one-time code) or an
    alert's reference (``KVITTERA K7QM2X [code]``) as the action it stands for, else None."""
    head = words[0]
    if head in SMS_ACK and 2 <= len(words) <= 3 and number is None and _REF.fullmatch(words[1]):
        code = words[2] if len(words) == 3 else None
        return replace(base, action=f"ack:ref:{words[1]}", code=code)
    shift = small_number(words[1]) if len(words) == 3 else None
    if head in SMS_SHIFT_WITH_CODE and shift is not None and small_number(words[2]) is not None:
        return replace(base, action=f"{SMS_ACTIONS[head]}:{shift}", code=words[2])
    if head in SMS_ACTIONS and number is not None:
        return replace(base, action=f"{SMS_ACTIONS[head]}:{number}")
    return None


def within_limit(body: str) -> str:
    """``body`` cut to Twilio's 1,600 characters (a longer one is refused, error 21617), the
    cut marked with "...": one text is always sent rather than none."""
    return body if len(body) <= MAX_BODY else body[: MAX_BODY - 3] + "..."


def render(reply: Outgoing) -> str:
    """A reply as one GSM-7 text of at most 1,600 characters: options as numbers to answer
    with."""
    lines = [reply.text]
    if reply.options:
        lines.append(
            " ".join(f"{n}={option.label}" for n, option in enumerate(reply.options, start=1))
        )
    return within_limit(to_gsm7("\n".join(lines)))
