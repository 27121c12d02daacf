"""How core objects look outside: JSON objects (docs/interface.md pins them) and text tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from models.tables import Area, Organisation, Person
from scheduling.walks.shifts import ShiftView


def iso_local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 with the local UTC offset, e.g. 2026-11-27T21:00:00+01:00."""
    return moment.astimezone(zone).isoformat() if moment is not None else None


def shift_json(view: ShiftView, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    shift = view.shift
    return {
        "id": shift.id,
        "organisation": view.organisation,
        "organisation_id": shift.organisation_id,
        "area": view.area,
        "area_id": shift.area_id,
        "meeting_point": view.meeting_point,
        "start": iso_local(shift.start_at, zone),
        "end": iso_local(shift.end_at, zone),
        "min_walkers": shift.min_walkers,
        "max_walkers": shift.max_walkers,
        "confirmed": view.confirmed,
        "offered": view.offered,
        "waitlisted": view.waitlisted,
        "trained": view.trained,
        "status": view.status_at(now),
        "staffing": view.staffing,
        "risk_night": shift.risk_night,
        "series_id": shift.series_id,
        "notes": shift.notes,
        "sequence": shift.sequence,
    }


def person_json(
    person: Person, organisation: Organisation | None, with_contacts: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": person.id,
        "name": person.name,
        "organisation": organisation.name if organisation else None,
        "role": person.role,
        "trained": person.trained,
        "language": person.language,
        "registered": person.registered,
        "approved": person.approved,
        "course_on": person.course_on.isoformat() if person.course_on else None,
        "record_checked_on": (
            person.record_checked_on.isoformat() if person.record_checked_on else None
        ),
        "telegram_reachable": person.telegram_id is not None and not person.telegram_blocked,
        "sms_reachable": person.phone is not None
        and not person.sms_opted_out
        and not person.sms_unreachable,
        "sms_opted_out": person.sms_opted_out,
        "no_shows": person.no_show_count,
    }
    if with_contacts:
        data["phone"] = person.phone
        data["telegram_id"] = person.telegram_id
    return data


PEOPLE_HEADERS = ["id", "name", "organisation", "role", "trained", "lang", "reachable", "approved"]
CONTACT_HEADERS = ["phone", "telegram id"]


def person_row(
    person: Person, organisation: Organisation | None, with_contacts: bool = False
) -> list[object]:
    """A person as a table row: the channels that reach them, contacts only if asked."""
    data = person_json(person, organisation, with_contacts)
    channels = (("telegram", data["telegram_reachable"]), ("sms", data["sms_reachable"]))
    reach = [channel for channel, ok in channels if ok]
    row: list[object] = [
        person.id,
        person.name,
        data["organisation"],
        person.role,
        "yes" if person.trained else "",
        person.language,
        ",".join(reach) or "-",
        "yes" if person.approved else "waiting",
    ]
    if with_contacts:
        row += [person.phone, person.telegram_id]
    return row


def organisation_json(org: Organisation) -> dict[str, Any]:
    return {"id": org.id, "name": org.name}


def area_json(area: Area) -> dict[str, Any]:
    return {"id": area.id, "name": area.name, "meeting_point": area.meeting_point,
            "latitude": area.latitude, "longitude": area.longitude}


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain left-aligned text table; an empty table says so."""
    cells = [[("" if value is None else str(value)) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for index, value in enumerate(row):
            widths[index] = max(widths[index], len(value))
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def shift_rows(views: Sequence[ShiftView], zone: ZoneInfo, now: datetime) -> list[list[object]]:
    rows: list[list[object]] = []
    for view in views:
        start = view.shift.start_at.astimezone(zone)
        end = view.shift.end_at.astimezone(zone)
        zones = f"{start:%Z}" if f"{start:%Z}" == f"{end:%Z}" else f"{start:%Z}/{end:%Z}"
        hours = (view.shift.end_at - view.shift.start_at).total_seconds() / 3600
        rows.append(
            [
                view.shift.id,
                f"{start:%a %Y-%m-%d %H:%M}–{end:%H:%M} {zones} ({hours:g} h)",
                view.organisation,
                view.area,
                f"{view.seats_taken}/{view.shift.max_walkers} (min {view.shift.min_walkers})",
                view.waitlisted,
                view.staffing,
                view.status_at(now) + (" ⚠ risk" if view.shift.risk_night else ""),
            ]
        )
    return rows


SHIFT_HEADERS = [
    "id",
    "when (local)",
    "organisation",
    "area",
    "walkers",
    "waitlist",
    "staffing",
    "status",
]
