"""Numbers, dates and changes in the reader's language: the caller's ``texts`` gives the
words (month names, the decimal sign), this module only arranges them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scheduling.common.labels import Texts

MINUS = "−"  # U+2212, the typographic minus


@dataclass(frozen=True)
class Words:
    texts: Texts

    def __call__(self, key: str, /, **params: object) -> str:
        return self.texts(f"council.{key}", **params)

    def number(self, value: float, decimals: int = 0) -> str:
        """``1 234,5`` in Swedish, ``1,234.5`` in English."""
        text = f"{abs(value):,.{decimals}f}"
        text = text.replace(",", "\x00").replace(".", self("decimal_sign"))
        text = text.replace("\x00", self("thousands_sign"))
        return (MINUS if value < 0 else "") + text

    def hours(self, value: float) -> str:
        return self.number(value, 1 if value != int(value) else 0)

    def percent(self, value: float | None) -> str:
        return "–" if value is None else self.number(value * 100) + " %"

    def change(self, now: float | None, before: float | None, decimals: int = 0) -> str:
        """``+3``, ``−2`` or ``±0``; a dash when either side has no value."""
        if now is None or before is None:
            return "–"
        difference = round(now - before, decimals)
        if difference == 0:
            return "±0"
        return ("+" if difference > 0 else "") + self.number(difference, decimals)

    def day(self, day: date) -> str:
        """``1 november 2026`` / ``1 November 2026``."""
        month = self("months").split(",")[day.month - 1]
        return self("date", day=day.day, month=month, year=day.year)

    def period(self, first: date, last: date) -> str:
        return self(
            "period", first=self.day(first), last=self.day(last), days=(last - first).days + 1
        )

    def with_previous(self, now: str, before: str) -> str:
        """A table cell: this period's value and, in brackets, the previous period's."""
        return f"{now} ({before})"

    def code(self, group: str, code: str, capital: bool = True) -> str:
        """A stored code's words (``coordinator.<group>.<code>``), capitalised; a code with no
        words is never shown as it is stored."""
        try:
            text = self.texts(f"coordinator.{group}.{code}")
        except KeyError:
            text = self("unknown")
        return text[:1].upper() + text[1:] if capital else text

    def yes_no(self, value: bool | None) -> str:
        return "–" if value is None else self("yes" if value else "no")
