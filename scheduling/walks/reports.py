"""The post-walk report (docs/architecture.md): a draft filled in step by step, submitted,
correctable for 24 hours. Answers are validated here against fixed vocabularies, so no channel
can store anything else; free text is cleaned, capped at 280 characters and masked before
storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Report, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput
from scheduling.common.masking import mask_summary
from scheduling.common.text import clean_text
from scheduling.walks.place_merge import record_places
from scheduling.walks.shifts import get_shift

CORRECTION_WINDOW = timedelta(hours=24)
SUMMARY_MAX = 280

YOUTH_BUCKETS = ("0", "1-10", "11-30", "31-50", "50+")
MOODS = ("calm", "mixed", "unruly")
ALCOHOL = ("none", "some", "much")
FELT_SAFE = ("yes", "partly", "no")
HELP_KINDS = ("mediation", "first_aid", "helped_home", "called_parent")
SERVICES = ("112", "police", "ambulance", "guards", "outreach")
PLACE_ISSUES = (
    "broken_light", "dark_route", "bushes", "vandalism", "glass_litter", "unsafe", "other"
)
OTHER_PLACE = "other"
SPOT_MAX = 60  # a walker's own words for a spot not in [walks] places

@dataclass(frozen=True)
class SubmitResult:
    report: Report
    masked: list[str]
    corrected: bool


async def open_report(ctx: Context, person_id: int, shift_id: int) -> Report:
    """The person's report for a shift: their draft, or a submitted one still correctable.

    Only someone with a confirmed seat may report, once the walk has started.
    """
    now = ctx.now()
    async with ctx.store.transaction() as session:
        shift = await get_shift(session, shift_id)
        await _require_walker(session, shift, person_id, now)
        report = await _report_of(session, shift_id, person_id)
        if report is None:
            report = Report(
                shift_id=shift_id,
                person_id=person_id,
                created_at=now,
                areas=[],
                help_given=[],
                services_contacted=[],
                place_issues=[],
                masked=[],
            )
            session.add(report)
            await session.flush()
        elif _correction_over(report, now):
            raise DomainError("report_locked", shift=shift_id)
        return report


def _correction_over(report: Report, now: datetime) -> bool:
    """A submitted report may be corrected for 24 hours from its first submission."""
    return (
        report.status == "submitted"
        and report.submitted_at is not None
        and now - report.submitted_at > CORRECTION_WINDOW
    )


async def _require_walker(session: AsyncSession, shift: Shift, person_id: int, now: Any) -> None:
    if shift.status == ShiftStatus.CANCELLED:
        raise DomainError("shift_cancelled", shift=shift.id)
    if shift.start_at > now:
        raise DomainError("report_too_early", shift=shift.id)
    signup = await _signup_of(session, shift.id or 0, person_id)
    if signup is None or signup.status != SignupStatus.CONFIRMED:
        raise DomainError("not_confirmed", shift=shift.id)
    if signup.no_show:
        raise DomainError("report_no_show", shift=shift.id)


async def _signup_of(session: AsyncSession, shift_id: int, person_id: int) -> Signup | None:
    return (
        await session.exec(
            select(Signup).where(
                col(Signup.shift_id) == shift_id, col(Signup.person_id) == person_id
            )
        )
    ).first()


async def _editable(session: AsyncSession, report_id: int, person_id: int, now: datetime) -> Report:
    """The person's report, if it may still change: a correction flow may be left open for days
    (flows never time out), so the 24 hours are checked again on every answer and submission,
    and so is the walker's attendance (the lead may have marked them absent meanwhile)."""
    report = await session.get(Report, report_id)
    if report is None or report.person_id != person_id:
        raise DomainError("report_not_found", ref=str(report_id))
    if _correction_over(report, now):
        raise DomainError("report_correction_closed", shift=report.shift_id)
    signup = await _signup_of(session, report.shift_id, person_id)
    if signup is not None and signup.no_show:
        raise DomainError("report_no_show", shift=report.shift_id)
    return report


async def _report_of(session: AsyncSession, shift_id: int, person_id: int) -> Report | None:
    return (
        await session.exec(
            select(Report).where(
                col(Report.shift_id) == shift_id, col(Report.person_id) == person_id
            )
        )
    ).first()


async def answer(ctx: Context, report_id: int, person_id: int, field: str, value: Any) -> Report:
    """Store one answer after checking it against the field's vocabulary."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        report = await _editable(session, report_id, person_id, now)
        _apply(report, field, value, ctx.settings.walks.places)
        report.updated_at = now
        session.add(report)
        return report


def _apply(report: Report, field: str, value: Any, places: list[str]) -> None:
    choices: dict[str, tuple[str, ...]] = {
        "youth_met": YOUTH_BUCKETS,
        "mood": MOODS,
        "alcohol": ALCOHOL,
        "felt_safe": FELT_SAFE,
    }
    if field in choices:
        _require(value in choices[field], field, value)
        setattr(report, field, value)
    elif field in ("drugs", "follow_up"):
        _require(isinstance(value, bool), field, value)
        setattr(report, field, value)
    elif field == "walkers_present":
        _require(isinstance(value, int) and 1 <= value <= 100, field, value)
        report.walkers_present = value
    elif field == "help_given":
        report.help_given = _subset(value, HELP_KINDS, field)
    elif field == "services_contacted":
        report.services_contacted = _subset(value, SERVICES, field)
    elif field == "areas":
        report.areas = _subset(value, (*places, OTHER_PLACE), field)
    elif field == "place_issues":
        _require(isinstance(value, list), field, value)
        report.place_issues = [_place_issue(item, places) for item in value][:20]
    else:
        raise InvalidInput("bad_report_answer", field=field, value="")


def _require(ok: bool, field: str, value: Any) -> None:
    if not ok:
        raise InvalidInput("bad_report_answer", field=field, value=str(value)[:40])


def _subset(value: Any, allowed: tuple[str, ...], field: str) -> list[str]:
    _require(isinstance(value, list) and all(v in allowed for v in value), field, value)
    return [v for v in allowed if v in value]


def _place_issue(item: Any, places: list[str]) -> dict[str, str]:
    ok = (
        isinstance(item, dict)
        and item.get("place") in (*places, OTHER_PLACE)
        and item.get("category") in PLACE_ISSUES
    )
    _require(ok, "place_issues", item)
    issue = {"place": item["place"], "category": item["category"]}
    spot = item.get("spot")
    if item["place"] == OTHER_PLACE and isinstance(spot, str) and spot.strip():
        issue["spot"] = clean_spot(spot)
    return issue


def clean_spot(text: str) -> str:
    """A walker's words for a spot: one line, masked like the summary, at most 60 characters."""
    cleaned = " ".join(clean_text(text, field="spot", max_length=400).split())
    return mask_summary(cleaned, SPOT_MAX).text


async def submit(
    ctx: Context,
    report_id: int,
    person_id: int,
    summary: str | None,
    nothing_happened: bool = False,
) -> SubmitResult:
    """Finish the report. "Nothing happened" fills the calm, uneventful answers in one go.

    The summary is masked (personal identity numbers, phone numbers, e-mail addresses) and
    capped before it is stored; the result says what was masked.
    """
    now = ctx.now()
    text: str | None = None
    masked: list[str] = []
    if summary:
        cleaned = clean_text(summary, field="summary", max_length=4000)
        result = mask_summary(cleaned, SUMMARY_MAX)
        text, masked = result.text, list(result.masked)
    async with ctx.store.transaction() as session:
        report = await _editable(session, report_id, person_id, now)
        if nothing_happened and report.status == "submitted":
            # one tap must never wipe what was reported (112 called, first aid, follow-up)
            raise DomainError("report_nothing_after_submit", shift=report.shift_id)
        if nothing_happened:
            _fill_uneventful(report)
            report.walkers_present = report.walkers_present or await _walkers(session, report)
        corrected = report.status == "submitted"
        report.summary = text if text is not None else report.summary
        report.masked = masked
        report.status = "submitted"
        report.submitted_at = report.submitted_at if corrected else now
        report.updated_at = now
        session.add(report)
        await session.flush()
        await record_places(session, report, await get_shift(session, report.shift_id))
        return SubmitResult(report=report, masked=masked, corrected=corrected)


def _fill_uneventful(report: Report) -> None:
    report.nothing_happened = True
    report.youth_met = report.youth_met or "0"
    report.mood = "calm"
    report.alcohol = "none"
    report.drugs = False
    report.help_given = []
    report.services_contacted = []
    report.place_issues = []
    report.felt_safe = "yes"
    report.follow_up = False


async def _walkers(session: AsyncSession, report: Report) -> int:
    """How many walkers were there, when the reporter does not say: those who checked in;
    where nobody used check-in, the confirmed walkers the lead has not marked absent (the only
    figure there is; once the lead answered "Vilka var med?" it is exactly who came). Never
    fewer than one: the reporter was there (an absent walker may not report)."""
    signups = (
        await session.exec(
            select(Signup).where(
                col(Signup.shift_id) == report.shift_id,
                col(Signup.status) == SignupStatus.CONFIRMED,
            )
        )
    ).all()
    came = [s for s in signups if not s.no_show]
    checked_in = [s for s in came if s.checked_in_at is not None]
    return max(1, len(checked_in) or len(came))
