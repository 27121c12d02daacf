"""Exports: XLSX and CSV files read back, Swedish headers, real values, and contacts only when
a coordinator asks (audited)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.cli.export import swedish
from evaluation import exports
from models.tables import AuditEntry, Role
from scheduling.common.context import Context
from scheduling.common.errors import PermissionDenied
from scheduling.people.access import Actor
from tests.coord_data import DataSet, build

NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
async def data(ctx: Context) -> DataSet:
    return await build(ctx)


async def tables_of(
    ctx: Context, kind: str, actor: Actor | None = None, with_contacts: bool = False
) -> list[exports.Table]:
    request = exports.ExportRequest(kind, NOV_1, NOV_30, with_contacts)  # type: ignore[arg-type]
    return await exports.build_export(ctx, actor or Actor.operator(), request, swedish)


def xlsx_of(tables: list[exports.Table], tmp_path: Path) -> Path:
    path = tmp_path / "export.xlsx"
    path.write_bytes(exports.render(tables, swedish, "xlsx"))
    return path


def header_row(sheet: Any) -> list[str]:
    return [cell.value for cell in sheet[1]]


async def test_xlsx_has_a_sheet_per_table_with_swedish_headers(
    ctx: Context, data: DataSet, tmp_path: Path
) -> None:
    """The stats workbook has sheets Statistik, Flaggade platser, Per vecka; Swedish headers."""
    book = load_workbook(xlsx_of(await tables_of(ctx, "stats"), tmp_path))
    assert book.sheetnames == ["Statistik", "Flaggade platser", "Per vecka"]
    sheet = book["Statistik"]
    assert header_row(sheet)[:4] == ["Indelning", "Namn", "Planerade pass", "Genomfört"]
    overall = [cell.value for cell in sheet[2]]
    assert overall[:6] == ["Totalt", "Alla", 6, 3, 1, 4]
    assert book["Flaggade platser"]["A2"].value == "Larmtorget"
    assert book["Flaggade platser"]["B2"].value == "trasig belysning"


async def test_xlsx_cells_are_real_dates_and_numbers_in_local_time(
    ctx: Context, data: DataSet, tmp_path: Path
) -> None:
    """Shift start is a date-time cell at local 21:00; hours are numbers; header row frozen."""
    book = load_workbook(xlsx_of(await tables_of(ctx, "shifts"), tmp_path))
    sheet = book["Pass"]
    headers = header_row(sheet)
    row = {h: cell for h, cell in zip(headers, sheet[2], strict=True)}
    assert row["Start"].value == datetime(2026, 11, 6, 21, 0)
    assert row["Start"].is_date and row["Datum"].is_date
    assert row["Planerade timmar"].value == 4 and row["Planerade timmar"].data_type == "n"
    assert row["Vandrartimmar"].value == pytest.approx(11.5)
    assert row["Genomfört"].value == "ja"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width and sheet.column_dimensions["H"].width == 24


async def test_csv_is_utf8_with_bom_and_semicolons(ctx: Context, data: DataSet) -> None:
    """CSV starts with a BOM, separates with ';', writes decimal commas and local times."""
    raw = exports.render(await tables_of(ctx, "shifts"), swedish, "csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Pass", "Datum", "Start"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Start"] == "2026-11-06 21:00"
    assert first["Vandrartimmar"] == "11,5"
    assert first["Förening"] == "IFK Kalmar"


async def test_csv_with_several_tables_titles_each_further_one(ctx: Context, data: DataSet) -> None:
    """The payment basis CSV holds the summary, then a blank line, a title, the walk lines."""
    raw = exports.render(await tables_of(ctx, "payments"), swedish, "csv")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    blank = rows.index([])
    assert rows[blank + 1] == ["Ersättning per pass"]
    assert rows[0][:4] == ["Förening", "Månad", "Godkända pass", "Ej godkända pass"]
    assert "Belopp per pass" not in rows[0]  # no rate configured: no amounts


async def test_exports_never_hold_contacts_by_default(ctx: Context, data: DataSet) -> None:
    """No phone number or Telegram id appears in any export without --with-contacts."""
    for kind in exports.KINDS:
        raw = exports.render(await tables_of(ctx, kind), swedish, "csv").decode("utf-8-sig")
        assert "+4670" not in raw and "Telefon" not in raw, kind


async def test_contacts_for_a_coordinator_are_included_and_audited(
    ctx: Context, data: DataSet
) -> None:
    """With contacts, the sign-ups carry phone numbers, and the audit trail says so."""
    tables = await tables_of(ctx, "signups", with_contacts=True)
    headers = [c.key for c in tables[0].columns]
    phones = {row[headers.index("phone")] for row in tables[0].rows}
    assert "+46701234561" in phones
    async with ctx.store.transaction() as session:
        entry = (
            await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "export.signups"))
        ).one()
    assert entry.details["with_contacts"] is True


async def test_a_lead_may_not_export_contacts_and_sees_only_their_organisation(
    ctx: Context, data: DataSet
) -> None:
    """A lead's shift export holds their shifts only; asking for contacts is refused."""
    lead = Actor(person_id=99, role=Role.LEAD, organisation_id=data.org_b, label="lead")
    tables = await tables_of(ctx, "shifts", lead)
    assert {row[5] for row in tables[0].rows} == {"Nattugglorna"}
    with pytest.raises(PermissionDenied):
        await tables_of(ctx, "signups", lead, with_contacts=True)


async def test_report_export_merges_labels_and_leaves_out_drafts(
    ctx: Context, data: DataSet
) -> None:
    """Three submitted reports; mood and services in Swedish words; the draft is not there."""
    table = (await tables_of(ctx, "reports"))[0]
    keys = [c.key for c in table.columns]
    assert len(table.rows) == 3
    first = dict(zip(keys, table.rows[0], strict=True))
    assert first["mood"] == "blandad" and first["services"] == "polisen 114 14"
    assert first["youth_estimate"] == 20 and first["reporter"] == "Walker P1"
    assert first["place_issues"] == "Larmtorget: trasig belysning"


def test_xlsx_opens_in_libreoffice(tmp_path: Path) -> None:
    """LibreOffice headless converts an exported workbook to CSV with the same values."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed; .ci/run installs it")
    table = exports.Table(
        "shifts",
        [exports.Column("shift_id", "int"), exports.Column("start", "datetime")],
        [[7, datetime(2026, 11, 6, 21, 0)], [8, datetime(2026, 11, 7, 20, 30)]],
    )
    source = tmp_path / "pass.xlsx"
    exports.write_xlsx([table], swedish, source)
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "csv",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    converted = tmp_path / "pass.csv"
    assert converted.exists(), result.stderr
    lines = converted.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Pass,Start"
    shift_id, start = lines[1].split(",")
    assert shift_id == "7" and datetime.fromisoformat(start) == datetime(2026, 11, 6, 21, 0)
