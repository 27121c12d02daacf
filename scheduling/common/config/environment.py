"""Where the configuration comes from besides its file: ``VANDRA_<SECTION>_<KEY>``, the path."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from scheduling.common.config.base import ConfigError
from scheduling.common.config.settings import SECTIONS


def env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Collect ``VANDRA_<SECTION>_<KEY>`` variables into a nested dict of raw values."""
    overrides: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith("VANDRA_") or name == "VANDRA_CONFIG":
            continue
        rest = name[len("VANDRA_") :].lower()
        section = next((s for s in SECTIONS if rest.startswith(s + "_")), None)
        if section is None:
            continue  # not ours to judge: VANDRA_ variables outside the sections are ignored
        key = rest[len(section) + 1 :]
        fields = SECTIONS[section].model_fields
        if key not in fields:
            raise ConfigError(f"environment variable {name}: [{section}] has no key {key!r}")
        overrides.setdefault(section, {})[key] = _env_value(fields[key].annotation, raw)
    return overrides


def _env_value(annotation: Any, raw: str) -> Any:
    """Strings are taken as they are; lists, numbers and booleans as TOML values."""
    text_like = annotation in (str, str | None, SecretStr, SecretStr | None) or (
        isinstance(annotation, type) and issubclass(annotation, str)
    )
    if text_like or "Literal" in repr(annotation):
        return raw
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw  # let validation name what is wrong with it


def resolve_config_path(explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    """Which file to read: --config, else $VANDRA_CONFIG, else ./vandra.toml if present."""
    if explicit:
        return Path(explicit)
    if environ.get("VANDRA_CONFIG"):
        return Path(environ["VANDRA_CONFIG"])
    default = Path("vandra.toml")
    return default if default.exists() else None
