"""The reports export: one row per post-walk report."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from evaluation.exports.contacts import contact_columns, contacts, people_by_id
from evaluation.exports.tables import Cell, Column, ExportRequest, Table, local_naive
from evaluation.measures import YOUTH_ESTIMATE
from evaluation.walk_facts import Walk, load_walks
from models.tables import Person, Report
from scheduling.common.context import Context
from scheduling.common.labels import Texts, label, labels, place_label, yes_no

BEFORE_CONTACTS = [
    Column("report_id", "int"),
    Column("shift_id", "int"),
    Column("date", "date"),
    Column("organisation"),
    Column("area"),
    Column("reporter"),
]
AFTER_CONTACTS = [
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


async def reports(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    walks = await load_walks(ctx, request.first_day, request.last_day, organisation_id)
    people = await people_by_id(
        ctx, {r.person_id for w in walks for r in w.reports if r.person_id}
    )
    with_contacts = request.with_contacts
    table = Table(
        "reports", [*BEFORE_CONTACTS, *contact_columns(with_contacts), *AFTER_CONTACTS]
    )
    for walk in walks:
        for report in walk.reports:
            person = people.get(report.person_id or 0)
            table.rows.append(
                [
                    *_who(walk, report, person, ctx.zone),
                    *contacts(person, with_contacts),
                    *_what(report, texts, ctx.zone),
                ]
            )
    return [table]


def _who(walk: Walk, report: Report, person: Person | None, zone: ZoneInfo) -> list[Cell]:
    return [
        report.id,
        walk.shift_id,
        walk.shift.start_at.astimezone(zone).date(),
        walk.view.organisation,
        walk.view.area,
        person.name if person else None,
    ]


def _what(r: Report, texts: Texts, zone: ZoneInfo) -> list[Cell]:
    return [
        r.walkers_present,
        local_naive(r.actual_start, zone),
        local_naive(r.actual_end, zone),
        ", ".join(place_label(texts, a) for a in r.areas),
        label(texts, "youth", r.youth_met),
        YOUTH_ESTIMATE.get(r.youth_met or ""),
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


def place_issue_text(texts: Texts, issues: Sequence[dict[str, str]]) -> str:
    return "; ".join(
        f"{_spot(texts, issue)}: {label(texts, 'place', issue.get('category')) or ''}"
        for issue in issues
    )


def _spot(texts: Texts, issue: dict[str, str]) -> str:
    """Where: a configured place, the walker's words for another, or "another place"."""
    return issue.get("spot") or place_label(texts, issue.get("place") or "")
