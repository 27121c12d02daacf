"""A morning picture's lines: a catalogue key (``morning.<name>``) with values, where a value
may be a label to translate or several lines joined; the picture holds no words of its own."""

from __future__ import annotations

from typing import Any

Line = dict[str, Any]


def line(name: str, **params: Any) -> Line:
    """A line: the text ``morning.<name>`` (``<name>_sms`` by SMS, where there is one)."""
    return {"key": f"morning.{name}", "params": params}


def label(group: str, code: str) -> dict[str, str]:
    """A code shown as its translated label (``coordinator.<group>.<code>``)."""
    return {"t": f"coordinator.{group}.{code}"}


def items(lines: list[Line]) -> dict[str, list[Line]]:
    """Several lines shown as one value, joined."""
    return {"items": lines}
