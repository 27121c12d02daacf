"""SMS text in GSM-7: what fits, how to make any text fit, and what it costs in segments.

GSM 03.38 is the 7-bit alphabet every phone can show. One character outside it turns the whole
message into UCS-2, which fits 70 characters per SMS instead of 160, so outgoing texts go through
`to_gsm7` first (the contract: every SMS text is GSM-7).
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet, in table order (0x1B, the escape to the extension table, left out).
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs two septets (escape + character).
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
GSM7: frozenset[str] = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE, GSM7_PART = 160, 153  # septets in a lone SMS / in each part of a concatenated one
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units, likewise

REPLACEMENT = "?"

# Characters with no useful compatibility decomposition, mapped by hand to GSM-7 text.
_TRANSLITERATIONS: dict[str, str] = {
    **dict.fromkeys("‐‑‒–—―−⁃", "-"),  # hyphens, dashes, minus sign
    **dict.fromkeys("‘’‚‛′‹›`´", "'"),  # single quotes, primes, backtick, acute accent
    **dict.fromkeys("“”„‟″«»", '"'),  # double quotes and guillemets
    **dict.fromkeys("•‣◦∙·", "*"),  # bullets and middle dots
    "…": "...",
    "→": "->",  # arrows, e.g. a change notice's old -> new
    "←": "<-",
    "⁄": "/",  # fraction slash, e.g. from NFKD of ½
    "∕": "/",
    "×": "x",
    "÷": "/",
    "©": "(c)",
    "®": "(R)",
    "ç": "c",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "Th",
    "ħ": "h",
    "Ħ": "H",
    "ı": "i",
    "œ": "oe",
    "Œ": "OE",
    "\t": " ",
    "\v": "\n",
    "\f": "\n",  # in the extension table, but a page break means nothing on a phone
    "\u2028": "\n",  # line separator
    "\u2029": "\n",  # paragraph separator
    "\x85": "\n",  # next line
}

# Unicode categories that are dropped silently: format characters (zero-width space and joiner,
# BOM, soft hyphen, direction marks), marks left over after composition (variation selectors,
# stray accents), symbol modifiers (emoji skin tones) and other symbols (emoji, dingbats).
_DROPPED_CATEGORIES = frozenset({"Cf", "Mn", "Me", "Mc", "Sk", "So"})


def is_gsm7(text: str) -> bool:
    """True when every character of `text` is in the GSM 03.38 alphabet or its extension table."""
    return all(ch in GSM7 for ch in text)


def septets(text: str) -> int:
    """The GSM-7 length of `text`: extension characters count two. `text` must be GSM-7."""
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


def encoding(text: str) -> Encoding:
    """The encoding an SMS carrying `text` is sent in: GSM-7 when it fits, else UCS-2."""
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def segments(text: str) -> int:
    """How many SMS `text` is sent as (an empty text still takes one).

    GSM-7: 160 septets fit in one SMS, else 153 per part; an extension character is never split
    from its escape. UCS-2: 70 UTF-16 code units in one, else 67 per part; a surrogate pair is
    never split.
    """
    if is_gsm7(text):
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return _parts(sizes, GSM7_SINGLE, GSM7_PART)
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return _parts(sizes, UCS2_SINGLE, UCS2_PART)


def _parts(sizes: list[int], single: int, part: int) -> int:
    """Count parts when units of the given sizes are packed in order, never split."""
    if sum(sizes) <= single:
        return 1
    count, used = 1, 0
    for size in sizes:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


def to_gsm7(text: str) -> str:
    """Return `text` rewritten in GSM-7, keeping as much of its meaning as it can.

    Composes first (so a decomposed "a" + ring stays "å"), keeps every GSM-7 character (å ä ö é
    ü ñ ...), maps dashes, curly quotes, ellipses, odd spaces and the like to their plain forms,
    strips accents the alphabet lacks ("á" -> "a"), drops invisible characters and emoji, and
    writes one "?" for each run of anything else (other scripts, unassigned code points).
    """
    out: list[str] = []
    unknown_run = False
    for ch in unicodedata.normalize("NFC", text):
        plain = _plain(ch)
        if plain is None:
            if not unknown_run:
                out.append(REPLACEMENT)
            unknown_run = True
            continue
        if plain:
            out.append(plain)
            unknown_run = False
    return "".join(out)


def _plain(ch: str) -> str | None:
    """GSM-7 text for one character: "" to drop it, None when nothing fits."""
    if ch in GSM7 and ch != "\f":
        return ch
    if ch in _TRANSLITERATIONS:
        return _TRANSLITERATIONS[ch]
    category = unicodedata.category(ch)
    if category == "Zs":
        return " "
    if category == "Cc":
        return ""
    if category in _DROPPED_CATEGORIES:
        return _decomposed(ch) or ""  # "™" still becomes "TM"
    return _decomposed(ch)


def _decomposed(ch: str) -> str | None:
    """The compatibility decomposition of `ch` without accents, if all of it is GSM-7."""
    decomposed = unicodedata.normalize("NFKD", ch)
    if decomposed == ch:
        return None
    parts: list[str] = []
    for part in decomposed:
        if unicodedata.category(part) == "Mn":
            continue
        if part in GSM7 and part != "\f":
            parts.append(part)
        elif part in _TRANSLITERATIONS:
            parts.append(_TRANSLITERATIONS[part])
        elif unicodedata.category(part) == "Zs":
            parts.append(" ")
        else:
            return None
    return "".join(parts) or None


__all__ = [
    "GSM7",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "REPLACEMENT",
    "Encoding",
    "encoding",
    "is_gsm7",
    "segments",
    "septets",
    "to_gsm7",
]
