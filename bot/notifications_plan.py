"""The words of a change notice: what changed about a walker's shift, old → new.

The payload carries both sides (``scheduling/walks/edit_notices.py``), so a later edit or a
renamed area never changes what an earlier notice says. SMS gets the same text made GSM-7 by
the sender (the arrow becomes ``->``). Option: ``cancel:<shift>`` for a walker the new time
does not suit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import t
from scheduling.messages.content import Option, Outgoing, Recipient


def _when(lang: str, side: dict[str, Any], zone: ZoneInfo) -> str:
    start = datetime.fromisoformat(str(side.get("start"))).astimezone(zone)
    end = datetime.fromisoformat(str(side.get("end"))).astimezone(zone)
    weekday = t(lang, f"notify.weekday.{start.weekday()}")
    return t(
        lang, "notify.when", day=f"{weekday} {start.day}/{start.month}",
        start=f"{start:%H:%M}", end=f"{end:%H:%M}",
    )


def render_change(payload: dict[str, Any], recipient: Recipient, zone: ZoneInfo) -> Outgoing:
    """``Ändrat: ...`` with one line per change (time, area, meeting point)."""
    lang = recipient.language
    old, new = payload.get("old") or {}, payload.get("new") or {}
    try:
        was, now = _when(lang, old, zone), _when(lang, new, zone)
    except (TypeError, ValueError):
        return Outgoing(t(lang, "plan.notice.generic"))
    lines = [t(lang, "plan.notice.head", when=was, area=old.get("area", "?"))]
    for what in payload.get("changed") or []:
        if what == "time":
            lines.append(t(lang, "plan.notice.time", old=was, new=now))
        elif what in ("area", "meeting_point"):
            lines.append(
                t(lang, f"plan.notice.{what}", old=old.get(what, "?"), new=new.get(what, "?"))
            )
    lines.append(t(lang, "plan.notice.tail"))
    shift_id = payload.get("shift_id")
    options = (Option(t(lang, "notify.option.cancel"), f"cancel:{shift_id}"),) if shift_id else ()
    return Outgoing("\n".join(lines), options)
