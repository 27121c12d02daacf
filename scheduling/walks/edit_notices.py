"""The change notice: after an edit, each walker signed up is told what changed, old and new.

One outbox row per walker and edit (``changed:shift:<id>:seq:<n>:person:<pid>``), held by quiet
hours unless the shift (at its old or new time) begins before they end; it expires at the end of
the shift. The payload carries both sides, so the words never depend on a later edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import Area, Shift
from scheduling.common.context import Context
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.messages.quiet import send_time
from scheduling.walks.shifts import active_signups

WALKER_FACING = ("time", "area", "meeting_point")


@dataclass(frozen=True)
class Before:
    """What a walker saw of the shift before the edit."""

    start_at: datetime
    end_at: datetime
    area_id: int
    meeting_point: str | None

    @classmethod
    def of(cls, shift: Shift) -> Before:
        return cls(shift.start_at, shift.end_at, shift.area_id, shift.meeting_point)


async def _side(
    session: AsyncSession, start: datetime, end: datetime, area_id: int, point: str | None
) -> dict[str, Any]:
    area = await session.get(Area, area_id)
    name = area.name if area else "?"
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "area": name,
        "meeting_point": point or (area.meeting_point if area else None) or name,
    }


async def notify_change(
    ctx: Context, session: AsyncSession, shift: Shift, before: Before, changed: set[str],
    now: datetime,
) -> int:
    """Queue the notice for everyone signed up when a walker would notice; how many."""
    shown = [what for what in WALKER_FACING if what in changed]
    if not shown:
        return 0
    old = await _side(session, before.start_at, before.end_at, before.area_id, before.meeting_point)
    new = await _side(session, shift.start_at, shift.end_at, shift.area_id, shift.meeting_point)
    if old["meeting_point"] == new["meeting_point"] and "meeting_point" in shown:
        shown.remove("meeting_point")
    first_start = min(before.start_at, shift.start_at)
    due = send_time(
        now, now, quiet=ctx.settings.reminders.quiet_hours, zone=ctx.zone, shift_start=first_start
    )
    messages = [
        NewMessage(
            key=f"changed:shift:{shift.id}:seq:{shift.sequence}:person:{signup.person_id}",
            kind=Kind.SHIFT_CHANGED,
            person_id=signup.person_id,
            due_at=due,
            expires_at=shift.end_at,
            payload={
                "shift_id": shift.id, "signup_id": signup.id, "sequence": shift.sequence,
                "changed": shown, "old": old, "new": new,
            },
        )
        for signup in await active_signups(session, shift.id or 0)
    ]
    return await enqueue_many(session, messages, now) if shown else 0
