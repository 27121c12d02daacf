"""How Twilio counts an SMS body: its encoding and its segments, as the fake Twilio reports them.

Written from the GSM 03.38 tables and Twilio's segment rules, on its own (the fake models the
provider, so it does not borrow vandra's code): a body wholly in the GSM-7 default alphabet
and its extension table goes as GSM-7, 160 septets in one SMS or 153 per part of a longer one,
an extension character taking two septets that are never split; any other body goes as UCS-2,
70 UTF-16 code units in one SMS or 67 per part, a surrogate pair never split.
"""

from __future__ import annotations

_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENDED = "\f^{}\\[~]|€"
_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


def encoding(body: str) -> str:
    """"GSM-7" when every character is in the GSM 03.38 tables, else "UCS-2"."""
    return "GSM-7" if all(ch in _BASIC or ch in _EXTENDED for ch in body) else "UCS-2"


def _width(ch: str, scheme: str) -> int:
    if scheme == "GSM-7":
        return 2 if ch in _EXTENDED else 1
    return len(ch.encode("utf-16-le")) // 2


def segments(body: str) -> int:
    """The number of SMS the body is sent as (at least one, also for an empty body)."""
    scheme = encoding(body)
    single, part = _LIMITS[scheme]
    widths = [_width(ch, scheme) for ch in body]
    if sum(widths) <= single:
        return 1
    parts, room = 1, part
    for width in widths:
        if width > room:
            parts, room = parts + 1, part
        room -= width
    return parts
