"""The ``vandra`` command line (CONTRACT.md, "Command line").

Exit codes: 0 success; 2 bad input or config (one line on stderr); 1 anything else.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click

from bot.i18n import error_text, operator_language, t
from bot.logging_setup import redact
from models.db import StoreError, schema_state, upgrade
from scheduling.common.clock import Clock
from scheduling.common.config import ConfigError, Settings, load_settings
from scheduling.common.context import Context
from scheduling.common.errors import DomainError

T = TypeVar("T")


class BadInput(Exception):
    """Exit 2 with this one-line message."""


def fail(message: str, code: int = 2) -> NoReturn:
    """Exit with one line on stderr; configured secrets and tokens in it are redacted."""
    click.echo(f"vandra: {redact(message)}", err=True)
    sys.exit(code)


def settings_of(click_ctx: click.Context) -> Settings:
    """The validated settings for this invocation (loaded once, on first use)."""
    root = click_ctx.find_root()
    obj = root.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = load_settings(obj.get("config_path"))
        redact.add(obj["settings"].secrets())  # so that no error message can show them
    settings: Settings = obj["settings"]
    return settings


def config_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--config PATH`` on any command (it may also be given before the command)."""

    def remember(click_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value:
            click_ctx.find_root().ensure_object(dict)["config_path"] = value

    return click.option(
        "--config",
        "config_path",
        metavar="PATH",
        expose_value=False,
        callback=remember,
        is_eager=True,
        help="Config file (else $VANDRA_CONFIG, else ./vandra.toml).",
    )(function)


async def open_context(
    settings: Settings, *, create_if_empty: bool = True, clock: Clock | None = None
) -> Context:
    """A context on the configured store, refusing a schema that is behind the code's.

    A brand-new empty database is set up on the spot (nothing can be lost by that) unless
    ``create_if_empty`` is off, as for ``vandra run``.
    """
    ctx = Context.create(settings, clock)
    try:
        state = await schema_state(ctx.store.engine)
        if state.empty and create_if_empty:
            await upgrade(ctx.store.engine)
        elif not state.up_to_date:
            key = "error.schema_empty" if state.empty else "error.schema_out_of_date"
            raise BadInput(t(operator_language(), key, current=state.current, head=state.head))
    except BaseException:
        await ctx.store.close()
        raise
    return ctx


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def with_context(function: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an async command body as ``body(ctx, **params)`` on an opened Context."""

    @wraps(function)
    def wrapper(**params: Any) -> T:
        settings = settings_of(click.get_current_context())

        async def body() -> T:
            ctx = await open_context(settings)
            try:
                return await function(ctx, **params)
            finally:
                await ctx.store.close()

        return run_async(body())

    return wrapper


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Config file (else $VANDRA_CONFIG, else ./vandra.toml, else defaults).",
)
@click.version_option(package_name="vandra", prog_name="vandra")
@click.pass_context
def cli(click_ctx: click.Context, config_path: str | None) -> None:
    """vandra: coordinates volunteer night walks (vuxenvandringar).

    \b
    Start here:
      vandra demo                 the offline demo on a fresh example database
      vandra db upgrade           create or migrate the configured database
      vandra shifts list          what is coming up, with staffing
    """
    obj = click_ctx.ensure_object(dict)
    if config_path:
        obj["config_path"] = config_path


@cli.group()
def db() -> None:
    """The database: create it, bring its schema up to date, back it up and restore it."""


@db.command("upgrade")
@config_option
def db_upgrade() -> None:
    """Create the database or migrate it to this version's schema.

    \b
    Example:  vandra db upgrade
    """
    settings = settings_of(click.get_current_context())

    async def body() -> str:
        ctx = Context.create(settings)
        try:
            before = await schema_state(ctx.store.engine)
            await upgrade(ctx.store.engine)
            return f"database at {before.head} (was {before.current or 'empty'})"
        finally:
            await ctx.store.close()

    click.echo(run_async(body()))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every failure into the contract's exit codes."""
    import bot.cli_db_backup  # noqa: F401  (db backup, db restore)
    from bot import cli_admin, cli_export, cli_outbox, cli_runtime  # noqa: F401  (commands)

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
        fail(f"{type(exc).__name__}: {_first_line(exc)}", 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""
