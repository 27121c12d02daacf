"""How an export writes what it found: chosen fields, plain values, times in local ISO 8601."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import SQLModel

from models.tables import Alarm, AuditEntry, OutboxMessage, Signup
from scheduling.common.context import Context
from scheduling.walks.views import ShiftView

PROFILE_FIELDS = (
    "id", "name", "phone", "telegram_id", "preferred_channel", "language", "role", "trained",
    "course_on", "record_checked_on", "consent_at", "age_confirmed_at", "approved_at",
    "rejected_at", "waiting_shift_id", "sms_opted_out", "sms_unreachable", "telegram_blocked",
    "announcements_off", "no_show_count", "created_at", "last_active_at",
)  # fmt: skip
# Every other column of ``Person``, and why it is not in the profile as it is (a test holds
# the two lists to the table: a new column must be exported or named here).
PROFILE_NOT_EXPORTED = {
    "organisation_id": "exported as the organisation's name (organisation)",
    "erased_at": "always empty in an export: an erased person has nothing left to export",
}
# An alarm the person raised, all but who acknowledged it (that is about someone else).
ALARM_NOT_EXPORTED = {"person_id", "acknowledged_by", "acknowledged_label"}
MESSAGE_FIELDS = ("kind", "channel", "status", "created_at", "due_at", "sent_at", "delivery_status")


def signup_entry(ctx: Context, signup: Signup, view: ShiftView) -> dict[str, Any]:
    return {
        "shift_id": signup.shift_id,
        "shift_start": iso(ctx, view.shift.start_at),
        "shift_end": iso(ctx, view.shift.end_at),
        "shift_status": view.status_at(ctx.now()),
        "organisation": view.organisation,
        "area": view.area,
        "meeting_point": view.meeting_point,
        **plain(ctx, signup, exclude={"id", "shift_id", "person_id"}),
    }


def check_in_entry(ctx: Context, signup: Signup) -> dict[str, Any]:
    return {
        "shift_id": signup.shift_id,
        "checked_in_at": iso(ctx, signup.checked_in_at),
        "checked_out_at": iso(ctx, signup.checked_out_at),
    }


def alarm_entry(ctx: Context, alarm: Alarm) -> dict[str, Any]:
    return plain(ctx, alarm, exclude=ALARM_NOT_EXPORTED)


def message_entry(ctx: Context, message: OutboxMessage) -> dict[str, Any]:
    return {name: plain_value(ctx, getattr(message, name)) for name in MESSAGE_FIELDS}


def action_entry(ctx: Context, entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": iso(ctx, entry.at),
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "channel": entry.details.get("channel"),
    }


def plain(ctx: Context, row: SQLModel, exclude: set[str]) -> dict[str, Any]:
    """A row's fields but ``exclude`` as plain values."""
    return {key: plain_value(ctx, v) for key, v in row.model_dump(exclude=exclude).items()}


def plain_value(ctx: Context, value: Any) -> Any:
    """Times as local ISO 8601, dates as ISO dates, anything else as it is."""
    if isinstance(value, datetime):
        return iso(ctx, value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def iso(ctx: Context, moment: datetime | None) -> str | None:
    return moment.astimezone(ctx.zone).isoformat() if moment is not None else None
