"""How the command line fails: one line on stderr and the exit code of docs/interface.md."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from bot.redaction import redact
from scheduling.common.text import LARGEST_ID

# An id argument as the databases hold it: a larger number is refused here (exit 2), never
# sent to the database to fail there.
ID = click.IntRange(1, LARGEST_ID)


class BadInput(Exception):
    """Exit 2 with this one-line message."""


def fail(message: str, code: int = 2) -> NoReturn:
    """Exit with one line on stderr; configured secrets and tokens in it are redacted."""
    click.echo(f"vandra: {redact(message)}", err=True)
    sys.exit(code)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message ("" when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else ""
