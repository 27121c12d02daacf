"""Words for codes, supplied by the caller: the core renders no text of its own.

``Texts`` is ``bot.i18n.t`` bound to a language: ``texts(key, **params)``, raising KeyError for
a key the catalogue does not have.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class Texts(Protocol):
    def __call__(self, key: str, /, **params: Any) -> str:
        """The text of a catalogue key; KeyError when there is none."""
        ...


def label(texts: Texts, group: str, code: str | None) -> str | None:
    """A code's label (coordinator.<group>.<code>), or the code itself when it has none."""
    if code is None or code == "":
        return None
    try:
        return texts(f"coordinator.{group}.{code}")
    except KeyError:
        return code


def place_label(texts: Texts, place: str) -> str:
    """A place from a report: a configured place's name as it is, "other" in words
    (``coordinator.spot.other``)."""
    return label(texts, "spot", place) or ""


def labels(texts: Texts, group: str, codes: Iterable[str]) -> str:
    """Several codes' labels, comma-separated, in a stable order."""
    return ", ".join(label(texts, group, c) or "" for c in sorted(codes))


def yes_no(texts: Texts, value: bool | None) -> str | None:
    return None if value is None else texts("coordinator.yes" if value else "coordinator.no")
