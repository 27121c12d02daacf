"""Builders for the places tests: a walk that has started and its walkers' reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models.tables import Report
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.walks import reports, signups
from tests.helpers import add_people, add_shift, seed_org_area


async def walked_shift(
    ctx: Context, clock: ManualClock, walkers: int = 2, area_name: str = "Centrum"
) -> tuple[int, list[int]]:
    """A shift three days on, ``walkers`` confirmed on it; the clock moved past its start."""
    org, area = await seed_org_area(ctx, area=area_name)
    shift = await add_shift(ctx, org, area, min_walkers=1)
    people = await add_people(ctx, walkers, org=org)
    for person in people:
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    clock.advance(timedelta(days=3, hours=5))
    return shift.id or 0, [p.id or 0 for p in people]


async def draft_with_issues(
    ctx: Context, shift_id: int, person_id: int, issues: list[dict[str, Any]]
) -> Report:
    """The person's report on the shift with these place issues answered, not yet submitted."""
    report = await reports.open_report(ctx, person_id, shift_id)
    return await reports.answer(ctx, report.id or 0, person_id, "place_issues", issues)


async def file_report(
    ctx: Context, shift_id: int, person_id: int, issues: list[dict[str, Any]]
) -> Report:
    draft = await draft_with_issues(ctx, shift_id, person_id, issues)
    return (await reports.submit(ctx, draft.id or 0, person_id, None)).report
