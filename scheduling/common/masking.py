"""Masking free text before it is stored: reports must not identify anyone (docs/architecture.md).

Swedish personal identity numbers (personnummer and samordningsnummer, 10 or 12 digits, with or
without ``-`` or ``+``, with a valid check digit; written with ``-`` or ``+`` or as 12 digits
also with a wrong one), phone numbers (Swedish and international, found
by ``phonenumbers``) and e-mail addresses are replaced by a marker such as ``[personnummer]``.
The result names the kinds that were masked, so the reporter can be told.

Masking repeats until a pass finds nothing more (every pass removes digits or ``@`` signs, so
it ends): masking twice changes nothing, and the result never holds anything the masks detect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers

PERSONNUMMER = "personnummer"
PHONE = "phone"
EMAIL = "email"
KINDS = (PERSONNUMMER, PHONE, EMAIL)
MARKERS = {PERSONNUMMER: "[personnummer]", PHONE: "[telefon]", EMAIL: "[e-post]"}

SUMMARY_MAX_LENGTH = 280  # docs/architecture.md: the report's summary, at most 280 characters
ELLIPSIS = "…"

_DIGIT_RUN_START = re.compile(r"(?<!\d)\d")
_PNR_LONG = re.compile(r"(?:18|19|20)\d{6}[-+ ]?\d{4}(?!\d)")
_PNR_SHORT = re.compile(r"\d{6}[-+ ]?\d{4}(?!\d)")
_EMAIL = re.compile(  # local part: RFC 5322 atoms; domain: labels, the last starting with a letter
    r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@"
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.){1,16}[^\W\d_](?:[\w-]{0,61}[^\W_])"
)
_LETTER_TOUCHING_DIGIT = re.compile(r"(?<=\d)[^\W\d_]|[^\W\d_](?=\d)")
_NUMBERISH_TAIL = re.compile(r"[\d\s\-+()./]*(?:\[[^\]\s]*)?$")


@dataclass(frozen=True)
class MaskResult:
    """The masked text and which kinds were found (each kind once, in KINDS order)."""

    text: str
    masked: list[str] = field(default_factory=list)


def mask_report_text(text: str) -> MaskResult:
    """Mask personal identity numbers, phone numbers and e-mail addresses in ``text``."""
    found: set[str] = set()
    while True:
        masked, kinds = _mask_once(text)
        if not kinds:
            return MaskResult(text, [kind for kind in KINDS if kind in found])
        found |= kinds
        text = masked


def mask_summary(text: str, limit: int = SUMMARY_MAX_LENGTH) -> MaskResult:
    """Mask, then cap to ``limit`` characters; the capped text is masked too (still nothing)."""
    result = mask_report_text(text)
    kinds = set(result.masked)
    while True:
        capped = cap_length(result.text, limit)
        result = mask_report_text(capped)
        kinds |= set(result.masked)
        if result.text == capped:
            return MaskResult(capped, [kind for kind in KINDS if kind in kinds])


def cap_length(text: str, limit: int = SUMMARY_MAX_LENGTH) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when cut.

    A number or a marker the cut would split is dropped whole, so that no fragment of one is
    left behind and no shorter number appears at the end.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS)]
    head = _NUMBERISH_TAIL.sub("", head).rstrip()
    return head + ELLIPSIS


def _mask_once(text: str) -> tuple[str, set[str]]:
    kinds: set[str] = set()
    for kind, finder in ((EMAIL, _email_spans), (PERSONNUMMER, _pnr_spans), (PHONE, _phone_spans)):
        spans = finder(text)
        if spans:
            kinds.add(kind)
            text = _replace(text, spans, MARKERS[kind])
    return text, kinds


def _replace(text: str, spans: list[tuple[int, int]], marker: str) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + marker + text[end:]
    return text


def _email_spans(text: str) -> list[tuple[int, int]]:
    if "@" not in text:
        return []
    return [match.span() for match in _EMAIL.finditer(text)]


def _pnr_spans(text: str) -> list[tuple[int, int]]:
    """Spans of valid personal identity numbers, not overlapping, each a whole digit run."""
    spans: list[tuple[int, int]] = []
    end = 0
    for start_match in _DIGIT_RUN_START.finditer(text):
        start = start_match.start()
        if start < end:
            continue
        for pattern in (_PNR_LONG, _PNR_SHORT):
            candidate = pattern.match(text, start)
            if candidate and _masked_as_personnummer(candidate.group()):
                spans.append(candidate.span())
                end = candidate.end()
                break
    return spans


def is_personnummer(text: str) -> bool:
    """True for a personnummer or samordningsnummer: a plausible date, then a valid check digit.

    ``text`` is 10 or 12 digits, possibly with one ``-``, ``+`` or space before the last four.
    The month is 01-12; the day is 01-31, or 61-91 for a samordningsnummer.
    """
    digits = "".join(ch for ch in text if ch.isdecimal())
    if len(digits) not in (10, 12):
        return False
    ten = digits[-10:]
    month, day = int(ten[2:4]), int(ten[4:6])
    plausible_date = 1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91)
    return plausible_date and luhn_valid(ten)


def _masked_as_personnummer(text: str) -> bool:
    """A valid number, or one written the way people write their personnummer (with ``-`` or
    ``+`` before the last four, or 12 digits from the century on) with a plausible date: a
    mistyped check digit must not let a person's number through. A bare ten-digit run needs
    the check digit (receipts and order numbers are left alone)."""
    if is_personnummer(text):
        return True
    digits = "".join(ch for ch in text if ch.isdecimal())
    written_as_one = "-" in text or "+" in text or len(digits) == 12
    ten = digits[-10:]
    month, day = int(ten[2:4]), int(ten[4:6])
    return written_as_one and 1 <= month <= 12 and (1 <= day <= 31 or 61 <= day <= 91)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by Swedish identity numbers, over all ``digits``."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _phone_spans(text: str) -> list[tuple[int, int]]:
    """Spans of valid phone numbers (Swedish by default), also when glued to a word.

    ``phonenumbers`` skips a number that touches a letter ("ring0701234567"); such letters are
    blanked in a same-length copy, so the spans found still fit the original text.
    """
    if not any(ch.isdigit() for ch in text):
        return []
    unglued = _LETTER_TOUCHING_DIGIT.sub(" ", text)
    matcher = phonenumbers.PhoneNumberMatcher(unglued, "SE", leniency=phonenumbers.Leniency.VALID)
    return [(match.start, match.end) for match in matcher]
