"""Secrets out of every text that leaves the process: log lines and the command line's errors.

Every configured secret (``Settings.secrets()``: the Telegram token, the webhook secret, the
Twilio auth token) is replaced by ``[redacted]`` wherever it appears, also percent-encoded. So
are Telegram bot tokens in any URL (``/bot<digits>:<token>/``) and passwords in URLs
(``scheme://user:password@host``), configured or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "[redacted]"
_PATTERNS = (
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
