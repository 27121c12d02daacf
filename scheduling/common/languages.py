"""The languages vandra speaks, and which one a person is spoken to in."""

from __future__ import annotations

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"


def pick_language(*chosen: object, hint: str | None = None) -> str:
    """The first of ``chosen`` that vandra speaks (a person's language, one picked before
    registering), else the channel's hint (Telegram's ``language_code``: ``en-GB`` is
    English), else Swedish."""
    for language in chosen:
        if isinstance(language, str) and language in LANGUAGES:
            return language
    prefix = (hint or "").lower()[:2]
    return prefix if prefix in LANGUAGES else DEFAULT_LANGUAGE
