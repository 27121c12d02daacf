"""Message catalogues: every user-facing text lives in ``bot/locales/<lang>/*.toml``.

Each file holds one area's texts (``errors.toml``, ``dialogue.toml``, ...); a language's
catalogue is all its files together, and a key may be defined in one file only. Swedish is the
first language, English the second: ``tests/test_i18n.py`` checks that both have the same keys
and the same placeholders.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from scheduling.common.errors import DomainError
from scheduling.common.languages import DEFAULT_LANGUAGE as DEFAULT_LANGUAGE
from scheduling.common.languages import LANGUAGES as LANGUAGES
from scheduling.common.languages import pick_language as pick_language

LOCALES = Path(__file__).parent / "locales"


def _flatten(prefix: str, table: dict[str, Any], into: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, into)
        else:
            into[name] = str(value)


@cache
def catalogue(language: str) -> dict[str, str]:
    """All texts of one language, keyed ``section.key``."""
    entries: dict[str, str] = {}
    for path in sorted((LOCALES / language).glob("*.toml")):
        with path.open("rb") as handle:
            found: dict[str, str] = {}
            _flatten("", tomllib.load(handle), found)
        clash = entries.keys() & found.keys()
        if clash:
            raise RuntimeError(f"{path}: keys defined in another file too: {sorted(clash)}")
        entries.update(found)
    return entries


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(language: str | None, key: str, **params: Any) -> str:
    """The text for ``key`` in ``language`` (falling back to Swedish), with values filled in."""
    lang = pick_language(language)
    template = catalogue(lang).get(key) or catalogue(DEFAULT_LANGUAGE).get(key)
    if template is None:
        raise KeyError(f"no text for {key!r}")
    return template.format_map(_Lenient(params))  # str.format_map honours __missing__


def has_text(key: str) -> bool:
    return key in catalogue(DEFAULT_LANGUAGE)


def error_text(language: str | None, error: DomainError) -> str:
    """A refusal of the core, in words."""
    key = f"error.{error.code}"
    if not has_text(key):
        return t(language, "error.generic", code=error.code)
    return t(language, key, **error.params)


def operator_language() -> str:
    """The language for the command line: Swedish when the locale says so, else English."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return "sv" if value.lower().startswith("sv") else "en"
    return "en"
