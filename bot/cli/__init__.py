"""The ``vandra`` command line (docs/interface.md, "Command line"): the group assembled.

Exit codes: 0 success; 2 bad input or config (one line on stderr); 1 anything else.
"""

from __future__ import annotations

import sys

import click

from bot import cli_runtime  # noqa: F401  (run, demo and chat register on the root group)
from bot.cli import (
    areas,
    backup,  # noqa: F401  (db backup and db restore register on the db group)
    db,
    export,
    links,
    nights,
    orgs,
    outbox,
    people,
    places,
    report,
    shifts,
    shifts_edit,  # noqa: F401  (shifts edit and cancel register on the shifts group)
)
from bot.cli.errors import BadInput, fail, first_line
from bot.cli.root import cli
from bot.i18n import error_text, operator_language
from models.db import StoreError
from scheduling.common.config import ConfigError
from scheduling.common.errors import DomainError

for command in (
    db.db,
    orgs.orgs,
    areas.areas,
    people.people_group,
    shifts.shifts_group,
    nights.nights_group,
    export.export_command,
    report.report_command,
    links.dashboard_group,
    outbox.outbox_group,
    places.places_group,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every failure into the contract's exit codes."""
    try:
        cli.main(args=argv, prog_name="vandra", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
    except click.exceptions.Abort:
        fail("aborted", 1)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "vandra"
        fail(f"{exc.format_message()} (see: {command} --help)")
    except click.ClickException as exc:
        fail(exc.format_message())
    except ConfigError as exc:
        fail(f"config error: {exc}")
    except BadInput as exc:
        fail(str(exc))
    except DomainError as exc:
        fail(error_text(operator_language(), exc))
    except StoreError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 1)
    except Exception as exc:  # anything else: exit 1 with what it was, never a traceback dump
        fail(f"{type(exc).__name__}: {first_line(exc)}", 1)
