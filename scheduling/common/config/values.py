"""Values a configuration key may hold beyond plain TOML: durations and quiet hours."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    """Turn ``"90s"``, ``"15m"``, ``"2h"`` or ``"2d"`` into a timedelta of at least one second."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f'expected a duration such as "15m" or "2h", got {value!r}')
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f'expected a duration such as "90s", "15m", "2h" or "2d", got {value!r}')
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 1:
        raise ValueError(f"a duration must be at least 1 second, got {value!r}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Render a timedelta in the largest whole unit (the inverse of parse_duration)."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def parse_clock(value: object) -> time:
    """Turn ``"08:00"`` into a local wall-clock time."""
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value) if isinstance(value, str) else None
    try:
        return time(int(match.group(1)), int(match.group(2))) if match else time(99)
    except ValueError:
        raise ValueError(f'expected a time "HH:MM" such as "08:00", got {value!r}') from None


Clock = Annotated[time, BeforeValidator(parse_clock)]


class QuietHours(BaseModel):
    """A local-time window, possibly crossing midnight, such as 22:00-08:00."""

    model_config = ConfigDict(frozen=True)
    start: time
    end: time

    @classmethod
    def parse(cls, value: object) -> QuietHours:
        if isinstance(value, QuietHours):
            return value
        if isinstance(value, dict):
            return cls.model_validate(value)
        if not isinstance(value, str):
            raise ValueError(f'expected "HH:MM-HH:MM", got {value!r}')
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
        if not match:
            raise ValueError(f'expected "HH:MM-HH:MM" such as "22:00-08:00", got {value!r}')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            return cls(start=time(h1, m1), end=time(h2, m2))
        except ValueError as exc:
            raise ValueError(f"not a valid time range: {value!r}") from exc

    def contains(self, moment: time) -> bool:
        """True when a local wall-clock time falls inside the window."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"
