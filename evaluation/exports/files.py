"""The file writers: XLSX (one sheet per table) or CSV (UTF-8 with BOM, ``;``, decimal comma)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from evaluation.exports.tables import Cell, Table
from evaluation.exports.text_cells import csv_text, set_text
from scheduling.common.errors import InvalidInput
from scheduling.common.labels import Texts

FORMATS = ("csv", "xlsx")
NUMBER_FORMATS: dict[str, str] = {
    "int": "0",
    "decimal": "0.0#",
    "money": "#,##0.00",
    "percent": "0.0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}


def sheet_title(texts: Texts, table: Table) -> str:
    """The sheet's Swedish name, within Excel's 31 characters and allowed characters."""
    title = texts(f"coordinator.sheet.{table.name}")
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31]


def write_row(sheet: Worksheet, row_index: int, values: Sequence[Cell]) -> None:
    """One row of typed cells; every string a string cell, never a formula (text_cells.py)."""
    for column_index, value in enumerate(values, start=1):
        cell = sheet.cell(row=row_index, column=column_index)
        if isinstance(value, str):
            set_text(cell, value)
        else:
            cell.value = value


def write_xlsx(tables: Sequence[Table], texts: Texts, target: Path | BinaryIO) -> None:
    """One sheet per table: bold frozen header row, column widths, typed cells, a filter."""
    book = Workbook()
    book.remove(book.worksheets[0])
    for table in tables:
        sheet = book.create_sheet(sheet_title(texts, table))
        write_row(sheet, 1, [texts(f"coordinator.col.{c.key}") for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row_index, row in enumerate(table.rows, start=2):
            write_row(sheet, row_index, row)
        for index, column in enumerate(table.columns, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = column.display_width
            fmt = NUMBER_FORMATS.get(column.kind)
            if fmt:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = fmt
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    book.save(target)


def csv_value(value: Cell) -> str:
    """Swedish Excel's reading of a cell: decimal comma, ISO dates, local times; a string that
    could start a formula behind an apostrophe (text_cells.py)."""
    if isinstance(value, str):
        return csv_text(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        text = f"{value:f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", ",")
    return str(value)


def write_csv(tables: Sequence[Table], texts: Texts, target: Path | BinaryIO) -> None:
    """UTF-8 with BOM, ``;``-separated. Each further table follows an empty line and a line with
    its name, so that one file still holds everything."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
            writer.writerow([csv_value(texts(f"coordinator.sheet.{table.name}"))])
        writer.writerow([csv_value(texts(f"coordinator.col.{c.key}")) for c in table.columns])
        for row in table.rows:  # row by row: ``writerows`` holds the interpreter lock throughout
            writer.writerow([csv_value(v) for v in row])
    data = buffer.getvalue().encode("utf-8-sig")
    if isinstance(target, Path):
        target.write_bytes(data)
    else:
        target.write(data)


def render(tables: Sequence[Table], texts: Texts, fmt: str) -> bytes:
    """The file's bytes in ``csv`` or ``xlsx``."""
    if fmt not in FORMATS:
        raise InvalidInput("bad_export_format", format=fmt)
    buffer = io.BytesIO()
    (write_xlsx if fmt == "xlsx" else write_csv)(tables, texts, buffer)
    return buffer.getvalue()


def filename(kind: str, first_day: date, last_day: date, fmt: str) -> str:
    return f"vandra-{kind}-{first_day.isoformat()}-{last_day.isoformat()}.{fmt}"


MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
