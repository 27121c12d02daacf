"""The root ``vandra`` group and the configuration every command reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from bot.redaction import redact
from scheduling.common.config import Settings, load_settings


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


def settings_of(click_ctx: click.Context) -> Settings:
    """The validated settings for this invocation (loaded once, on first use)."""
    root = click_ctx.find_root()
    obj = root.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = load_settings(obj.get("config_path"))
        redact.add(obj["settings"].secrets())  # so that no error message can show them
    settings: Settings = obj["settings"]
    return settings
