"""Typed settings: one TOML file, environment overrides, errors that name the key.

The keys and their defaults are pinned by docs/interface.md ("Configuration"). Loading order:
``--config PATH``, else ``$VANDRA_CONFIG``, else ``./vandra.toml`` if it exists, else the
built-in defaults. Every key may be overridden from the environment as
``VANDRA_<SECTION>_<KEY>`` (upper case); lists and booleans are written as TOML values there.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scheduling.common.config.base import ConfigError, Section
from scheduling.common.config.behaviour import (
    DEFAULT_PLACES,
    DispatchSettings,
    EvaluationSettings,
    LoggingSettings,
    PaymentSettings,
    PrivacySettings,
    ReminderSettings,
    SchedulingSettings,
    WalkSettings,
)
from scheduling.common.config.environment import env_overrides, resolve_config_path
from scheduling.common.config.services import (
    DatabaseSettings,
    HttpSettings,
    SmsSettings,
    TelegramSettings,
)
from scheduling.common.config.settings import SECRET_KEYS, SECTIONS, Settings
from scheduling.common.config.values import Duration, QuietHours, format_duration, parse_duration

__all__ = [
    "DEFAULT_PLACES",
    "SECRET_KEYS",
    "SECTIONS",
    "ConfigError",
    "DatabaseSettings",
    "DispatchSettings",
    "Duration",
    "EvaluationSettings",
    "HttpSettings",
    "LoggingSettings",
    "PaymentSettings",
    "PrivacySettings",
    "QuietHours",
    "ReminderSettings",
    "SchedulingSettings",
    "Section",
    "Settings",
    "SmsSettings",
    "TelegramSettings",
    "WalkSettings",
    "format_duration",
    "load_settings",
    "parse_duration",
    "resolve_config_path",
    "settings_from_mapping",
]


def load_settings(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read, merge and validate the configuration; raise ConfigError naming the bad key."""
    environ = os.environ if environ is None else environ
    chosen = resolve_config_path(str(path) if path else None, environ)
    data: dict[str, Any] = {}
    if chosen is not None:
        data = _read_toml(chosen)
    for section, values in env_overrides(environ).items():
        current = data.get(section, {})
        if not isinstance(current, dict):
            raise ConfigError(f"[{section}]: expected a table, got {type(current).__name__}")
        data[section] = {**current, **values}
    return settings_from_mapping(data)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def settings_from_mapping(data: Mapping[str, Any]) -> Settings:
    """Validate a nested mapping (as read from TOML) into Settings."""
    for section, value in data.items():
        if section not in SECTIONS:
            known = ", ".join(f"[{s}]" for s in SECTIONS)
            raise ConfigError(f"unknown section [{section}] (known: {known})")
        if not isinstance(value, dict):
            raise ConfigError(f"[{section}]: expected a table of keys, got a single value")
    try:
        return Settings.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    """One line naming the first bad key, as ``[section] key: what is wrong``."""
    error = exc.errors()[0]
    location = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"[{location[0]}] unknown key {location[-1]!r}"
    if len(location) >= 2:
        key = location[1] + "".join(f"[{part}]" for part in location[2:])
        got = error.get("input")
        suffix = "" if isinstance(got, dict) or got is None else f" (got {got!r})"
        if "got" in message or location[1] in SECRET_KEYS:
            suffix = ""  # never echo a secret back
        return f"[{location[0]}] {key}: {message}{suffix}"
    return f"[{location[0]}]: {message}"
