"""Personal data out of log lines (docs/security.md): tracebacks without data, libraries quiet.

An exception's message is an open channel for data: a failed statement carries its parameters
(a whole report text), PostgreSQL adds ``DETAIL: Key (phone)=(+4670…)`` or ``Failing row
contains (…)``, ``int("Anna")`` names its input. So a logged traceback keeps every frame (file,
line, function, source line: code, never data) and, for each exception in the chain, its type
only, except for

- network and operating-system errors (``OSError``, connection errors of httpx and aiohttp),
  whose messages say which host or file failed, and
- SQLAlchemy statement errors, shown as the driver's error type, the SQLSTATE and the statement
  itself, which holds placeholders only (the engines hide parameters: models/engine.py).

Library loggers below INFO are dropped too: at DEBUG python-telegram-bot logs every API call
with its parameters (message texts, names), aiosqlite every statement with its values,
SQLAlchemy every result row. vandra's own loggers (``vandra.*``) keep their DEBUG lines, which
name ids, never texts.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

import aiohttp
import httpx
from sqlalchemy.exc import StatementError

WITHHELD = "[message withheld]"
OWN_LOGGERS = "vandra"
MESSAGE_KEPT: tuple[type[BaseException], ...] = (
    OSError,
    httpx.TransportError,
    aiohttp.ClientConnectionError,
)
CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
MAX_STATEMENT = 500


def safe_message(error: BaseException) -> str:
    """What a log line may say about ``error`` besides its type."""
    if isinstance(error, StatementError):
        orig = error.orig
        state = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
        statement = " ".join(str(error.statement or "").split())[:MAX_STATEMENT]
        driver = f"{type(orig).__name__}, " if orig is not None else ""
        return f"({driver}{state or 'no sqlstate'}) [SQL: {statement}]"
    if isinstance(error, MESSAGE_KEPT):
        return str(error)
    return WITHHELD if str(error) else ""


def exception_only(error: BaseException) -> str:
    name = type(error).__qualname__
    module = type(error).__module__
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    message = safe_message(error)
    return f"{name}: {message}" if message else name


def safe_traceback(
    exc_type: type[BaseException] | None,
    error: BaseException | None,
    tb: TracebackType | None,
) -> str:
    """Like ``logging.Formatter.formatException``, with messages reduced by ``safe_message``."""
    if error is None:
        return exc_type.__name__ if exc_type else ""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, CONTEXT
        else:
            current = None
    parts: list[str] = []
    for exc, link_to_next in reversed(chain):  # the oldest first, as Python prints them
        frames = (tb or exc.__traceback__) if exc is error else exc.__traceback__
        if frames is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.append("".join(traceback.format_tb(frames)))
        parts.append(exception_only(exc) + "\n" + link_to_next)
    return "".join(parts).rstrip("\n")


def library_detail(record: logging.LogRecord) -> bool:
    """A record below INFO from a library's logger (they log parameters, bodies and rows)."""
    own = record.name == OWN_LOGGERS or record.name.startswith(OWN_LOGGERS + ".")
    return record.levelno < logging.INFO and not own
