"""How shifts read in chat: one line in a list, a card with details, the compact SMS form."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.i18n import t
from scheduling.walks.shifts import ShiftView


def local_when(view: ShiftView, lang: str, zone: ZoneInfo) -> str:
    """``fre 28/11 21:00–01:00`` in the person's language, local time."""
    start = view.shift.start_at.astimezone(zone)
    end = view.shift.end_at.astimezone(zone)
    day = t(lang, f"weekday.{start.weekday()}")
    return f"{day} {start.day}/{start.month} {start:%H:%M}–{end:%H:%M}"


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%H:%M}"


def compact_line(view: ShiftView, lang: str, zone: ZoneInfo) -> str:
    """The SMS list form of the outside interface (``docs/interface.md``):
    ``12 fre 28/11 21-01 Baronen 3/8``."""
    start = view.shift.start_at.astimezone(zone)
    end = view.shift.end_at.astimezone(zone)
    day = t(lang, f"weekday.{start.weekday()}")
    hours = (
        f"{start:%H}-{end:%H}"
        if start.minute == end.minute == 0
        else (f"{start:%H:%M}-{end:%H:%M}")
    )
    area = short_area(view.area)
    risk = "!" if view.shift.risk_night else ""
    return (
        f"{view.shift.id} {day} {start.day}/{start.month} {hours} {area}{risk} "
        f"{view.confirmed}/{view.shift.max_walkers}"
    )


def short_area(name: str, limit: int = 14) -> str:
    """An area's name cut to its first words, for one-line lists."""
    words = name.replace("/", " ").replace("&", " ").split()
    shortened = ""
    for word in words:
        candidate = f"{shortened} {word}".strip()
        if len(candidate) > limit:
            break
        shortened = candidate
    return shortened or name[:limit]


def list_line(view: ShiftView, lang: str, zone: ZoneInfo) -> str:
    """One shift in a chat list."""
    risk = " ⚠" if view.shift.risk_night else ""
    return (
        f"{local_when(view, lang, zone)} · {short_area(view.area, 22)} · "
        f"{view.confirmed}/{view.shift.max_walkers}{risk}"
    )


def card(view: ShiftView, lang: str, zone: ZoneInfo, signup_status: str | None) -> str:
    """A shift with everything a walker needs to know."""
    lines = [
        t(lang, "shift.card_title", id=view.shift.id, when=local_when(view, lang, zone)),
        t(
            lang,
            "shift.card_area",
            area=view.area,
            meeting_point=view.meeting_point or t(lang, "shift.no_meeting_point"),
        ),
        t(
            lang,
            "shift.card_staffing",
            organisation=view.organisation,
            confirmed=view.confirmed,
            max=view.shift.max_walkers,
            min=view.shift.min_walkers,
            staffing=t(lang, f"staffing.{view.staffing}"),
        ),
    ]
    if view.waitlisted:
        lines.append(t(lang, "shift.card_waitlist", count=view.waitlisted))
    if view.shift.risk_night:
        lines.append(t(lang, "shift.card_risk"))
    if view.shift.status == "cancelled":
        lines.append(t(lang, "shift.card_cancelled"))
    if view.shift.notes:
        lines.append(view.shift.notes)
    if signup_status:
        lines.append(t(lang, f"shift.you_{signup_status}"))
    return "\n".join(lines)
