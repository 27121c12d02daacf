"""Exports for the coordinator: reports, shifts, sign-ups, statistics and the payment basis, as
XLSX (one sheet per table) or CSV (UTF-8 with BOM, ``;`` between fields, decimal comma).

Texts (headers, sheet names, code labels) come from the caller as ``texts(key, **params)``, which
raises KeyError for a key it does not know (bot.i18n.t bound to a language): the core renders
no words of its own. Times are local wall time. Phone numbers and Telegram ids appear only with
``with_contacts``, which a coordinator alone may ask for; every export is audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Literal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlmodel import col, select

from evaluation import payments
from evaluation import statistics as stats
from evaluation.walk_facts import Walk, day_range, load_walks
from models.tables import Person, Shift, Signup
from scheduling.common.context import Context
from scheduling.common.errors import InvalidInput
from scheduling.common.labels import Texts, label, labels, yes_no
from scheduling.people.access import Actor, audit, require_coordinator
from scheduling.people.scope import organisation_scope

KINDS = ("reports", "shifts", "signups", "stats", "payments")
FORMATS = ("csv", "xlsx")
Kind = Literal["reports", "shifts", "signups", "stats", "payments"]
ColumnKind = Literal["text", "int", "decimal", "money", "percent", "date", "datetime"]
Cell = str | int | float | Decimal | date | datetime | None
NUMBER_FORMATS: dict[str, str] = {
    "int": "0",
    "decimal": "0.0#",
    "money": "#,##0.00",
    "percent": "0.0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
WIDTHS: dict[str, int] = {"int": 10, "decimal": 12, "money": 14, "percent": 12, "date": 12}


@dataclass(frozen=True)
class Column:
    key: str  # catalogue key under coordinator.col.
    kind: ColumnKind = "text"
    width: int | None = None

    @property
    def display_width(self) -> int:
        return self.width or WIDTHS.get(self.kind, 18 if self.kind == "datetime" else 20)


@dataclass
class Table:
    """One sheet: a title, typed columns and rows of real values."""

    name: str  # catalogue key under coordinator.sheet.
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)


def local_naive(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Local wall time without a zone: what a spreadsheet cell holds."""
    return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


# --- the tables of each export ---------------------------------------------------------------


@dataclass(frozen=True)
class ExportRequest:
    kind: Kind
    first_day: date
    last_day: date
    with_contacts: bool = False


async def build_export(
    ctx: Context, actor: Actor, request: ExportRequest, texts: Texts
) -> list[Table]:
    """The tables of one export, for what the actor may see; audited."""
    if request.kind not in KINDS:
        raise InvalidInput("bad_export_kind", kind=request.kind)
    day_range(ctx, request.first_day, request.last_day)  # refuses a reversed range
    action = f"export.{request.kind}"
    organisation_id = await organisation_scope(ctx, actor, action)
    if request.with_contacts:
        await require_coordinator(ctx.store, actor, f"{action}.contacts", ctx.now())
    builder = BUILDERS[request.kind]
    tables = await builder(ctx, request, organisation_id, texts)
    async with ctx.store.transaction() as session:
        audit(
            session,
            actor,
            action,
            ctx.now(),
            target=f"organisation:{organisation_id}" if organisation_id else None,
            first_day=request.first_day.isoformat(),
            last_day=request.last_day.isoformat(),
            with_contacts=request.with_contacts,
            rows=sum(len(t.rows) for t in tables),
        )
    return tables


async def _people(ctx: Context, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    async with ctx.store.transaction() as session:
        found = await session.exec(select(Person).where(col(Person.id).in_(sorted(ids))))
        return {p.id or 0: p for p in found.all()}


def _contact_columns(with_contacts: bool) -> list[Column]:
    return [Column("phone", width=16), Column("telegram_id", width=14)] if with_contacts else []


def _contacts(person: Person | None, with_contacts: bool) -> list[Cell]:
    if not with_contacts:
        return []
    if person is None:
        return [None, None]
    return [person.phone, str(person.telegram_id) if person.telegram_id else None]


async def _reports(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    walks = await load_walks(ctx, request.first_day, request.last_day, organisation_id)
    people = await _people(ctx, {r.person_id for w in walks for r in w.reports if r.person_id})
    contacts = request.with_contacts
    columns = [
        Column("report_id", "int"),
        Column("shift_id", "int"),
        Column("date", "date"),
        Column("organisation"),
        Column("area"),
        Column("reporter"),
        *_contact_columns(contacts),
        Column("walkers_present", "int"),
        Column("actual_start", "datetime"),
        Column("actual_end", "datetime"),
        Column("areas_covered", width=30),
        Column("youth_met", width=12),
        Column("youth_estimate", "int"),
        Column("mood", width=12),
        Column("alcohol", width=12),
        Column("drugs", width=10),
        Column("help_given", width=30),
        Column("services", width=30),
        Column("place_issues", width=40),
        Column("felt_safe", width=12),
        Column("follow_up", width=12),
        Column("nothing_happened", width=12),
        Column("summary", width=60),
        Column("submitted_at", "datetime"),
    ]
    table = Table("reports", columns)
    zone = ctx.zone
    for walk in walks:
        for r in walk.reports:
            person = people.get(r.person_id or 0)
            table.rows.append(
                [
                    r.id,
                    walk.shift_id,
                    walk.shift.start_at.astimezone(zone).date(),
                    walk.view.organisation,
                    walk.view.area,
                    person.name if person else None,
                    *_contacts(person, contacts),
                    r.walkers_present,
                    local_naive(r.actual_start, zone),
                    local_naive(r.actual_end, zone),
                    ", ".join(r.areas),
                    label(texts, "youth", r.youth_met),
                    stats.YOUTH_ESTIMATE.get(r.youth_met or ""),
                    label(texts, "mood", r.mood),
                    label(texts, "alcohol", r.alcohol),
                    yes_no(texts, r.drugs),
                    labels(texts, "help", r.help_given),
                    labels(texts, "service", r.services_contacted),
                    place_issue_text(texts, r.place_issues),
                    label(texts, "safe", r.felt_safe),
                    yes_no(texts, r.follow_up),
                    yes_no(texts, r.nothing_happened),
                    r.summary,
                    local_naive(r.submitted_at, zone),
                ]
            )
    return [table]


def place_issue_text(texts: Texts, issues: Sequence[dict[str, str]]) -> str:
    return "; ".join(
        f"{issue.get('place', '')}: {label(texts, 'place', issue.get('category')) or ''}"
        for issue in issues
    )


async def _shifts(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    walks = await load_walks(ctx, request.first_day, request.last_day, organisation_id)
    columns = [
        Column("shift_id", "int"),
        Column("date", "date"),
        Column("start", "datetime"),
        Column("end", "datetime"),
        Column("planned_hours", "decimal"),
        Column("organisation"),
        Column("area"),
        Column("meeting_point", width=24),
        Column("min_walkers", "int"),
        Column("max_walkers", "int"),
        Column("confirmed", "int"),
        Column("waitlisted", "int"),
        Column("trained", "int"),
        Column("staffing", width=14),
        Column("status", width=14),
        Column("held", width=10),
        Column("walkers_present", "int"),
        Column("walker_hours", "decimal"),
        Column("reports", "int"),
        Column("risk_night", width=10),
        Column("notes", width=40),
    ]
    table = Table("shifts", columns)
    for walk in walks:
        table.rows.append(_shift_row(walk, ctx.zone, texts))
    return [table]


def _shift_row(walk: Walk, zone: ZoneInfo, texts: Texts) -> list[Cell]:
    view, shift = walk.view, walk.shift
    return [
        walk.shift_id,
        shift.start_at.astimezone(zone).date(),
        local_naive(shift.start_at, zone),
        local_naive(shift.end_at, zone),
        round(walk.planned_duration.total_seconds() / 3600, 2),
        view.organisation,
        view.area,
        view.meeting_point,
        shift.min_walkers,
        shift.max_walkers,
        view.confirmed,
        view.waitlisted,
        view.trained,
        label(texts, "staffing", "cancelled" if walk.cancelled else view.staffing),
        label(texts, "status", view.status_at(walk.now)),
        yes_no(texts, walk.held),
        walk.walkers_present if walk.held else None,
        round(stats.walker_hours([walk]), 2) if walk.held else None,
        len(walk.reports),
        yes_no(texts, shift.risk_night),
        shift.notes,
    ]


async def _signups(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    walks = {
        w.shift_id: w
        for w in await load_walks(ctx, request.first_day, request.last_day, organisation_id)
    }
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(Signup, Person)
            .join(Person, col(Person.id) == col(Signup.person_id))
            .join(Shift, col(Shift.id) == col(Signup.shift_id))
            .where(col(Signup.shift_id).in_(list(walks)))
            .order_by(col(Shift.start_at), col(Signup.shift_id), col(Signup.queued_at))
        )
        rows = found.all()
    contacts = request.with_contacts
    columns = [
        Column("shift_id", "int"),
        Column("start", "datetime"),
        Column("organisation"),
        Column("area"),
        Column("person_id", "int"),
        Column("name"),
        *_contact_columns(contacts),
        Column("signup_status", width=14),
        Column("queued_at", "datetime"),
        Column("confirmed_at", "datetime"),
        Column("cancelled_at", "datetime"),
        Column("checked_in_at", "datetime"),
        Column("checked_out_at", "datetime"),
        Column("no_show", width=10),
    ]
    table = Table("signups", columns)
    zone = ctx.zone
    for signup, person in rows:
        walk = walks[signup.shift_id]
        table.rows.append(
            [
                signup.shift_id,
                local_naive(walk.shift.start_at, zone),
                walk.view.organisation,
                walk.view.area,
                signup.person_id,
                person.name,
                *_contacts(person, contacts),
                label(texts, "signup", signup.status),
                local_naive(signup.queued_at, zone),
                local_naive(signup.confirmed_at, zone),
                local_naive(signup.cancelled_at, zone),
                local_naive(signup.checked_in_at, zone),
                local_naive(signup.checked_out_at, zone),
                yes_no(texts, signup.no_show),
            ]
        )
    return [table]


STATS_COLUMNS = [
    Column("group", width=14),
    Column("name", width=24),
    Column("planned", "int"),
    Column("held", "int"),
    Column("cancelled", "int"),
    Column("understaffed", "int"),
    Column("fill_rate", "percent"),
    Column("walker_hours", "decimal"),
    Column("unique_walkers", "int"),
    Column("new_walkers", "int"),
    Column("youth_estimate", "int"),
    *[Column(f"youth_{bucket}", "int") for bucket in ("0", "1-10", "11-30", "31-50", "50+")],
    Column("incidents", "int"),
    Column("emergency_contacts", "int"),
    Column("mood_calm", "int"),
    Column("mood_mixed", "int"),
    Column("mood_unruly", "int"),
    Column("places_flagged", "int"),
    Column("reports", "int"),
    Column("report_rate", "percent"),
]


def stats_row(group: str, name: str, s: stats.Stats) -> list[Cell]:
    return [
        group,
        name,
        s.planned,
        s.held,
        s.cancelled,
        s.understaffed,
        percent(s.fill_rate),
        s.walker_hours,
        s.unique_walkers,
        s.new_walkers,
        s.youth_contacts,
        *s.youth_buckets.values(),
        s.incidents,
        s.emergency_contacts,
        s.moods["calm"],
        s.moods["mixed"],
        s.moods["unruly"],
        sum(p.walks for p in s.places),
        s.reports,
        percent(s.report_rate),
    ]


def stats_tables(report: stats.StatsReport, texts: Texts) -> list[Table]:
    """Statistics, places flagged and weeks as three tables."""
    main = Table("stats", list(STATS_COLUMNS))

    def group(key: str) -> str:
        return texts(f"coordinator.group.{key}")

    main.rows.append(stats_row(group("overall"), texts("coordinator.all"), report.overall))
    for key, parts in (("organisation", report.by_organisation), ("area", report.by_area)):
        main.rows += [stats_row(group(key), name, s) for name, s in parts]
    main.rows += [stats_row(group("band"), band.replace("-", "–"), s) for band, s in report.by_band]
    main.rows += [
        stats_row(group("night"), texts(f"coordinator.night.{kind}"), s)
        for kind, s in report.by_night
    ]
    places = Table(
        "places", [Column("place", width=30), Column("category", width=24), Column("walks", "int")]
    )
    places.rows = [
        [p.place, label(texts, "place", p.category), p.walks] for p in report.overall.places
    ]
    weeks = Table(
        "weeks",
        [
            Column("year", "int"),
            Column("week", "int"),
            Column("monday", "date"),
            Column("held", "int"),
            Column("walker_hours", "decimal"),
        ],
    )
    weeks.rows = [[w.year, w.week, w.monday, w.held, w.walker_hours] for w in report.weeks]
    return [main, places, weeks]


async def _stats(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    report = await stats.statistics_for(ctx, request.first_day, request.last_day, organisation_id)
    return stats_tables(report, texts)


def payment_tables(basis: payments.PaymentBasis, zone: ZoneInfo, texts: Texts) -> list[Table]:
    """A summary per organisation and month, and every walk with why it does (not) qualify."""
    money = [Column("rate", "money"), Column("amount", "money")] if basis.rate is not None else []
    summary = Table(
        "payments",
        [
            Column("organisation"),
            Column("month", width=10),
            Column("qualifying", "int"),
            Column("not_qualifying", "int"),
            *money,
        ],
    )
    lines = Table(
        "payment_walks",
        [
            Column("organisation"),
            Column("month", width=10),
            Column("shift_id", "int"),
            Column("start", "datetime"),
            Column("area"),
            Column("walkers_present", "int"),
            Column("min_walkers", "int"),
            Column("reports", "int"),
            Column("qualifies", width=10),
            Column("reasons", width=50),
        ],
    )
    for month in basis.months:
        amounts: list[Cell] = [basis.rate, month.amount] if basis.rate is not None else []
        summary.rows.append(
            [
                month.organisation,
                month.month,
                len(month.qualifying),
                len(month.not_qualifying),
                *amounts,
            ]
        )
        lines.rows += [_payment_line(month, line, zone, texts) for line in month.lines]
    return [summary, lines]


def _payment_line(
    month: payments.OrganisationMonth, line: payments.PaymentLine, zone: ZoneInfo, texts: Texts
) -> list[Cell]:
    walk = line.walk
    return [
        month.organisation,
        month.month,
        walk.shift_id,
        local_naive(walk.shift.start_at, zone),
        walk.view.area,
        walk.walkers_present,
        walk.shift.min_walkers,
        len(walk.reports),
        yes_no(texts, line.qualifies),
        ", ".join(label(texts, "reason", r) or r for r in line.reasons),
    ]


async def _payments(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    basis = await payments.payment_basis_for(
        ctx, request.first_day, request.last_day, organisation_id
    )
    return payment_tables(basis, ctx.zone, texts)


Builder = Callable[[Context, ExportRequest, int | None, Texts], Any]
BUILDERS: dict[str, Builder] = {
    "reports": _reports,
    "shifts": _shifts,
    "signups": _signups,
    "stats": _stats,
    "payments": _payments,
}


# --- writing files -----------------------------------------------------------------------------


def sheet_title(texts: Texts, table: Table) -> str:
    """The sheet's Swedish name, within Excel's 31 characters and allowed characters."""
    title = texts(f"coordinator.sheet.{table.name}")
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31]


def write_xlsx(tables: Sequence[Table], texts: Texts, target: Path | BinaryIO) -> None:
    """One sheet per table: bold frozen header row, column widths, typed cells, a filter."""
    book = Workbook()
    book.remove(book.worksheets[0])
    for table in tables:
        sheet = book.create_sheet(sheet_title(texts, table))
        sheet.append([texts(f"coordinator.col.{c.key}") for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(row)
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
    """Swedish Excel's reading of a cell: decimal comma, ISO dates, local times."""
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
            writer.writerow([texts(f"coordinator.sheet.{table.name}")])
        writer.writerow([texts(f"coordinator.col.{c.key}") for c in table.columns])
        writer.writerows([[csv_value(v) for v in row] for row in table.rows])
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
