"""Nights as lists show them: when, where, who holds each, who claimed or stands as reserve."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from models.night_tables import ClaimKind, Night, NightClaim, NightStatus
from models.tables import Area, Organisation
from scheduling.common.context import Context

LONGEST_LIST = 200


@dataclass(frozen=True)
class NightView:
    id: int
    area: str
    start_at: datetime
    end_at: datetime
    min_walkers: int
    max_walkers: int
    status: str  # open | held | withdrawn
    holder_id: int | None
    holder: str | None
    shift_id: int | None
    offered: bool  # held, short at the final check: reserves may take it over
    claims: list[tuple[int, str]] = field(default_factory=list)  # (organisation id, name)
    reserves: list[tuple[int, str]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status == NightStatus.OPEN


async def upcoming_nights(ctx: Context, now: datetime | None = None) -> list[NightView]:
    """The nights that have not started yet, in order (at most ``LONGEST_LIST``)."""
    after = now or ctx.now()
    async with ctx.store.transaction() as session:
        rows = await session.exec(
            select(Night, Area.name, Organisation.name)
            .join(Area, col(Area.id) == col(Night.area_id))
            .outerjoin(Organisation, col(Organisation.id) == col(Night.holder_id))
            .where(col(Night.start_at) > after, col(Night.status) != NightStatus.WITHDRAWN)
            .order_by(col(Night.start_at), col(Night.id))
            .limit(LONGEST_LIST)
        )
        found = list(rows.all())
        ids = [n.id for n, _, _ in found]
        claims = await session.exec(
            select(NightClaim.night_id, NightClaim.kind, Organisation.id, Organisation.name)
            .join(Organisation, col(Organisation.id) == col(NightClaim.organisation_id))
            .where(col(NightClaim.night_id).in_(ids))
            .order_by(col(NightClaim.created_at), col(NightClaim.id))
        )
        by_night: dict[int, dict[str, list[tuple[int, str]]]] = {}
        for night_id, kind, org_id, name in claims.all():
            by_night.setdefault(night_id, {}).setdefault(kind, []).append((org_id or 0, name))
    return [_view(n, area, holder, by_night.get(n.id or 0, {})) for n, area, holder in found]


def _view(night: Night, area: str, holder: str | None,
          claims: dict[str, list[tuple[int, str]]]) -> NightView:
    return NightView(
        id=night.id or 0, area=area, start_at=night.start_at, end_at=night.end_at,
        min_walkers=night.min_walkers, max_walkers=night.max_walkers, status=night.status,
        holder_id=night.holder_id, holder=holder, shift_id=night.shift_id,
        offered=night.offered_at is not None,
        claims=claims.get(ClaimKind.CLAIM, []), reserves=claims.get(ClaimKind.RESERVE, []),
    )
