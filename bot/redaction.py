"""Secrets out of every text that leaves the process: log lines and the command line's errors.

Every configured secret (``Settings.secrets()``: the Telegram token, the webhook secret, the
Twilio auth token) is replaced by ``[redacted]`` wherever it appears, also percent-encoded. So
are Telegram bot tokens in any URL (``/bot<digits>:<token>/``) and passwords in URLs
(``scheme://user:password@host``), configured or not; so are the tokens of calendar links
(``/ical/<token>.ics``) and login links (``/dashboard/login/<token>``).

``without_phones`` is for log lines only: phone numbers, in E.164 (``+46701234567``, also
spaced) and in national form (``070-123 45 67``), become ``[phone]``. A safety net: vandra's
own log lines name ids only (docs/security.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "[redacted]"
PHONE = "[phone]"
_PATTERNS = (
    (re.compile(r"(/ical/)[^\s/?#.\"']+"), rf"\1{REDACTED}"),  # a calendar link's token
    (re.compile(r"(/dashboard/login/)[^\s/?#\"']+"), rf"\1{REDACTED}"),  # a login link's token
    (re.compile(r"bot\d+:[A-Za-z0-9_-]+"), f"bot{REDACTED}"),  # .../bot<id>:<token>/getMe
    (re.compile(r"(?<![\w:])\d{5,}:[A-Za-z0-9_-]{30,}"), REDACTED),  # a bare bot token
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE), rf"\1{REDACTED}@"),
)


class Redactor:
    """Replaces known secret values and secret-shaped patterns in text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secrets: Iterable[str]) -> None:
        """Remember secret values (also as they look percent-encoded in a URL)."""
        for secret in secrets:
            if secret:
                self._secrets.update({secret, quote(secret, safe=""), quote(secret)})

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


redact = Redactor()  # process-wide: every log line and every CLI error goes through it


_PHONES = (
    re.compile(r"(?<![\w+])\+[1-9](?:[- ]?\d){6,14}(?![\w.:])"),  # E.164, maybe spaced
    re.compile(r"(?<![\w+.:/-])0\d(?:[- ]?\d){6,9}(?![\w.:])"),  # national: 070-123 45 67
)


def without_phones(text: str) -> str:
    """``text`` with every phone-number-shaped run of digits replaced by ``[phone]``."""
    for pattern in _PHONES:
        text = pattern.sub(PHONE, text)
    return text
