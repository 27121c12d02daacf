"""Cleaning text that people type: names, notes, free text."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from scheduling.common.errors import InvalidInput


def clean_text(
    value: str, *, field: str, max_length: int, allow_empty: bool = False, multiline: bool = False
) -> str:
    """NFC-normalise, drop control and invisible format characters, fold runs of spaces.

    Raises InvalidInput naming the field when the result is empty or too long.
    """
    normalised = unicodedata.normalize("NFC", value)
    kept = []
    for char in normalised:
        category = unicodedata.category(char)
        if char == "\n" and multiline:
            kept.append(char)
        elif category in ("Cc", "Zl", "Zp") or char.isspace():
            kept.append(" ")
        elif category in ("Cf", "Cs", "Co", "Cn"):
            continue
        else:
            kept.append(char)
    lines = "".join(kept).split("\n")
    cleaned = "\n".join(" ".join(line.split()) for line in lines).strip()
    if not cleaned and not allow_empty:
        raise InvalidInput("empty_text", field=field)
    if len(cleaned) > max_length:
        raise InvalidInput("text_too_long", field=field, max=max_length, length=len(cleaned))
    return cleaned


_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")


LARGEST_ID = 2**31 - 1  # the databases' integer ids: one beyond them names nothing


def small_number(text: str, digits: int = 9) -> int | None:
    """``text`` (surrounding spaces aside) as an integer when it is 1 to ``digits`` ASCII
    digits, else None. ``str.isdigit`` is no guard: it accepts digits ``int`` refuses (Ethiopic
    ፩, superscript ²) and numbers too large for the database's integers."""
    stripped = text.strip()
    if len(stripped) > digits or not _ASCII_DIGITS.fullmatch(stripped):
        return None
    return int(stripped)


def name_key(value: str) -> str:
    """The form names are compared in: case- and width-insensitive."""
    return unicodedata.normalize("NFKC", value).casefold()


def normalise_phone(value: str, region: str = "SE") -> str:
    """A phone number in E.164 (``+46701234567``), or InvalidInput("bad_phone")."""
    text = value.strip()
    if not text or len(text) > 40:
        raise InvalidInput("bad_phone", phone=text[:40])
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput("bad_phone", phone=text) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput("bad_phone", phone=text)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
