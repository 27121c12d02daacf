"""Logs: one line per event, as text or JSON (``[logging] format``), secrets always redacted,
no personal data (docs/security.md).

Every record goes through ``bot.redaction.redact`` before it is formatted: the message, its
arguments, extra fields and exception text lose configured secrets, bot tokens in URLs,
passwords in URLs, link tokens and phone numbers. A traceback keeps its frames but not the
exceptions' messages (``bot.log_privacy``); libraries' records below INFO are dropped, and
their loggers are held at INFO even when vandra logs at DEBUG.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.log_privacy import library_detail, safe_traceback
from bot.redaction import redact, without_phones
from scheduling.common.config import Settings

_STANDARD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}
_QUIET_LOGGERS = (
    "httpx",
    "httpcore",
    "hpack",
    "apscheduler",
    "alembic",
    "telegram",
    "twilio",
    "aiohttp",
    "aiosqlite",
    "psycopg",
    "uvicorn.access",
)
_HANDLER_MARK = "_vandra_handler"


class RedactingFilter(logging.Filter):
    """Scrubs a record before any handler formats it; drops a library's DEBUG detail."""

    def filter(self, record: logging.LogRecord) -> bool:
        if library_detail(record):
            return False
        record.msg = scrub(_message(record))
        record.args = None
        if record.exc_info:
            record.exc_text = safe_traceback(*record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        for key, value in _extras(record).items():
            setattr(record, key, _scrub(value))
        return True


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # arguments that do not fit the format: keep both, never raise
        return f"{record.msg!r} {record.args!r}"


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_FIELDS}


def scrub(text: str) -> str:
    """A log line's text without secrets, link tokens or phone numbers."""
    return without_phones(redact(text))


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub(str(value))


class TextFormatter(logging.Formatter):
    """``time level logger: message key=value ...``, a traceback folded onto the same line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = "".join(f" {key}={value}" for key, value in _extras(record).items())
        return _one_line(super().format(record) + fields)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, exception, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        entry.update(_extras(record))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) in the configured format and level.

    Calling it again replaces the handler it installed before. Returns the handler.
    """
    redact.add(settings.secrets())
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    json_format = settings.logging.format == "json"
    handler.setFormatter(JsonFormatter() if json_format else TextFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    remove_logging_handler()
    root.addHandler(handler)
    root.setLevel(settings.logging.level)
    quiet = settings.logging.level != "DEBUG"
    for name in _QUIET_LOGGERS:  # a line per HTTP request or per tick is noise, not events;
        # below INFO they log message texts, parameters and rows (bot/log_privacy.py)
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.INFO)
    # a line per statement, at any level (its own default); DEBUG would add every row
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    return handler


def remove_logging_handler() -> None:
    """Remove the handler ``configure_logging`` installed, if any."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
