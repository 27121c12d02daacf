"""What the morning picture counts about one night, read once: the night's walk tallies
(``walk_tally.load_tallies``), each walk's main Purple Flag time band (``band_seconds``), the
kinds of help given and services contacted (the tallies keep only whether), and the
follow-ups opened for the night's walks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import col, select

from evaluation.band_seconds import BAND_NAMES, Windows
from evaluation.morning.night import Night
from evaluation.walk_facts import REPORT_SUBMITTED
from evaluation.walk_tally import Tally, load_tallies
from models.tables import FollowUp, Report, Shift
from scheduling.common.context import Context


@dataclass(frozen=True)
class NightFacts:
    night: Night
    tallies: list[Tally]
    bands: dict[int, str] = field(default_factory=dict)  # shift id -> its main time band
    kinds: dict[int, frozenset[str]] = field(default_factory=dict)  # shift id -> help, services
    follow_ups: int = 0

    @property
    def held(self) -> list[Tally]:
        return [t for t in self.tallies if t.held]


async def any_walks(ctx: Context, night: Night) -> bool:
    """Whether any shift (held, cancelled or not) starts in the night: a cheap look first."""
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(Shift.id)
            .where(col(Shift.start_at) >= night.start, col(Shift.start_at) < night.end)
            .limit(1)
        )
        return found.first() is not None


async def load_night(ctx: Context, night: Night) -> NightFacts:
    """The night's facts as they stand now."""
    tallies = await load_tallies(ctx, night.day, night.day + timedelta(days=1))
    start, end = night.start.timestamp(), night.end.timestamp()
    tallies = [t for t in tallies if start <= t.start_s < end]
    windows = Windows(tallies, ctx.zone)
    bands = {}
    for tally in tallies:
        planned, _ = windows.band_seconds(tally, held=False)
        bands[tally.shift_id] = BAND_NAMES[max(range(len(planned)), key=planned.__getitem__)]
    ids = [t.shift_id for t in tallies]
    async with ctx.store.transaction() as session:
        rows = (await session.exec(
            select(Report.shift_id, Report.help_given, Report.services_contacted).where(
                col(Report.shift_id).in_(ids), col(Report.status) == REPORT_SUBMITTED)
        )).all()
        opened = (await session.exec(
            select(func.count()).select_from(FollowUp).where(col(FollowUp.shift_id).in_(ids))
        )).one()
    kinds: dict[int, frozenset[str]] = {}
    for shift_id, helped, services in rows:
        kinds[shift_id] = kinds.get(shift_id, frozenset()) | frozenset(
            [*(helped or []), *(services or [])])
    return NightFacts(night, tallies, bands, kinds, int(opened or 0))
