"""The coordinator publishes open nights: one date or a weekly series, an area, the hours and
the walkers needed. Every lead is told once per publication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from models.night_tables import Night
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput
from scheduling.common.localtime import Fold
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import enqueue_many
from scheduling.nights.audience import leads, tell
from scheduling.people.access import Actor, audit, require_coordinator
from scheduling.people.organisations import find_area
from scheduling.walks.series import intervals


@dataclass(frozen=True)
class NightSpec:
    """Open nights in local wall time: the first, and optionally weekdays up to ``until``."""

    area: str | int
    start: datetime  # naive local
    end: datetime  # naive local
    min_walkers: int | None = None
    max_walkers: int | None = None
    repeat: set[int] | None = None
    until: date | None = None
    fold: Fold | None = None


async def publish_nights(ctx: Context, actor: Actor, spec: NightSpec) -> list[Night]:
    """Publish the nights (a coordinator's power, audited) and tell every lead."""
    now = ctx.now()
    await require_coordinator(ctx.store, actor, "nights.publish", now)
    walks = ctx.settings.walks
    low = spec.min_walkers if spec.min_walkers is not None else walks.min_walkers
    high = spec.max_walkers if spec.max_walkers is not None else max(walks.max_walkers, low)
    if not 1 <= low <= high <= 100:
        raise InvalidInput("bad_walker_count", min=low, max=high)
    times = intervals(ctx.zone, spec.start, spec.end, spec.fold, spec.repeat, spec.until)
    if times[0][0] <= now:
        raise DomainError("shift_in_past", start=spec.start.strftime("%Y-%m-%d %H:%M"))
    async with ctx.store.transaction() as session:
        area = await find_area(session, spec.area)
        nights = [
            Night(area_id=area.id or 0, start_at=s, end_at=e, min_walkers=low, max_walkers=high,
                  published_at=now)
            for s, e in times
        ]
        session.add_all(nights)
        await session.flush()
        ids = [n.id for n in nights]
        audit(session, actor, "nights.publish", now, target=f"area:{area.id}", night_ids=ids)
        first, last = nights[0], nights[-1]
        payload = {"count": len(nights), "area": area.name, "first": first.start_at.isoformat(),
                   "last": last.start_at.isoformat(), "night_ids": ids[:20]}
        key = f"nights:published:{first.id}"
        await enqueue_many(
            session, tell(ctx, now, key, Kind.NIGHTS_PUBLISHED, await leads(session), payload,
                          last),
            now,
        )
    return nights
