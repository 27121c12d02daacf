"""Places for the kommun's fault reporting: merged from reports while open, marked by the
coordinator (evaluation/places/, scheduling/walks/place_merge.py)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from evaluation import places
from models.db import Store
from models.tables import AuditEntry, Place, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.people.access import Actor
from scheduling.walks import place_merge, reports
from tests.places_data import draft_with_issues, file_report, walked_shift
from tests.race import Gate

LIGHT = {"place": "Larmtorget", "category": "broken_light"}
OPERATOR = Actor.operator()


async def all_places(ctx: Context) -> list[Place]:
    async with ctx.store.sessions() as session:
        return list((await session.exec(select(Place).order_by(Place.id))).all())


async def test_repeated_reports_of_an_open_place_are_merged(
    ctx: Context, clock: ManualClock
) -> None:
    """Two walkers name the broken light at Larmtorget: one place, two reports; the spot is
    compared case- and punctuation-blind; a different kind is another place."""
    shift_id, (p1, p2, p3) = await walked_shift(ctx, clock, walkers=3)
    await file_report(ctx, shift_id, p1, [LIGHT])
    await file_report(ctx, shift_id, p2, [LIGHT, {"place": "Stortorget", "category": "unsafe"}])
    other = {"place": "other", "category": "glass_litter", "spot": "Gångvägen vid biblioteket"}
    await file_report(ctx, shift_id, p3, [other])
    found = await all_places(ctx)
    assert [(p.spot, p.kind, p.reports, p.status) for p in found] == [
        ("Larmtorget", "broken_light", 2, "open"),
        ("Stortorget", "unsafe", 1, "open"),
        ("Gångvägen vid biblioteket", "glass_litter", 1, "open"),
    ]
    assert place_merge.spot_key("  GÅNGVÄGEN, vid  biblioteket!") == place_merge.spot_key(
        other["spot"]
    )


async def test_a_corrected_report_counts_once(ctx: Context, clock: ManualClock) -> None:
    """Submitting the same report again (a correction) does not count it twice."""
    shift_id, (p1, _) = await walked_shift(ctx, clock)
    report = await file_report(ctx, shift_id, p1, [LIGHT])
    await reports.submit(ctx, report.id or 0, p1, "rättat")
    (place,) = await all_places(ctx)
    assert place.reports == 1


async def test_later_nights_move_last_seen_and_a_fixed_place_starts_anew(
    ctx: Context, clock: ManualClock
) -> None:
    """A report on a later walk moves last seen; after "fixed" the same spot is a new place."""
    shift_id, (p1, p2) = await walked_shift(ctx, clock)
    await file_report(ctx, shift_id, p1, [LIGHT])
    (first,) = await all_places(ctx)
    await places.mark_place(ctx, OPERATOR, first.id or 0, "fixed")
    await file_report(ctx, shift_id, p2, [LIGHT])
    old, new = await all_places(ctx)
    assert (old.status, old.reports, old.open_key) == ("fixed", 1, None)
    assert (new.status, new.reports) == ("open", 1)


async def test_reported_stays_open_for_merging_and_closed_stays_closed(
    ctx: Context, clock: ManualClock
) -> None:
    """Marked "reported", a place still gathers reports; a dismissed place cannot be reopened;
    a volunteer may not mark; every mark is audited."""
    shift_id, (p1, p2) = await walked_shift(ctx, clock)
    await file_report(ctx, shift_id, p1, [LIGHT])
    (place,) = await all_places(ctx)
    await places.mark_place(ctx, OPERATOR, place.id or 0, "reported")
    await file_report(ctx, shift_id, p2, [LIGHT])
    (place,) = await all_places(ctx)
    assert (place.status, place.reports) == ("reported", 2)
    walker = Actor(person_id=p1, role=Role.VOLUNTEER, organisation_id=None, label="v")
    with pytest.raises(PermissionDenied):
        await places.mark_place(ctx, walker, place.id or 0, "fixed")
    await places.mark_place(ctx, OPERATOR, place.id or 0, "dismissed")
    with pytest.raises(DomainError, match="place_closed"):
        await places.mark_place(ctx, OPERATOR, place.id or 0, "reported")
    async with ctx.store.sessions() as session:
        marks = (await session.exec(select(AuditEntry.outcome).where(
            AuditEntry.action == "places.mark"))).all()
    assert sorted(marks) == ["ok", "ok", "refused"]


async def test_new_places_between_names_each_place_once(ctx: Context, clock: ManualClock) -> None:
    """The morning picture's helper: places first recorded in the window, with their area and
    a catalogue key for the kind; a repeat report does not make a place new again."""
    shift_id, (p1, p2) = await walked_shift(ctx, clock)
    before = clock.now()
    await file_report(ctx, shift_id, p1, [LIGHT])
    clock.advance(timedelta(hours=12))
    middle = clock.now()
    await file_report(ctx, shift_id, p2, [LIGHT])
    first = await places.new_places_between(ctx, before, middle)
    assert [(n.area, n.spot, n.kind_key) for n in first] == [
        ("Centrum", "Larmtorget", "coordinator.place.broken_light")
    ]
    assert await places.new_places_between(ctx, middle, middle + timedelta(days=1)) == []


async def test_two_reports_at_once_make_one_place_with_two_reports(
    ctx: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two walkers submit at the same moment on two workers: both wait at a gate just before
    the merge, then go on together; one place results, with a count of two."""
    shift_id, (p1, p2) = await walked_shift(ctx, clock)
    drafts = [await draft_with_issues(ctx, shift_id, p, [LIGHT]) for p in (p1, p2)]
    gate = Gate(2)
    merge = place_merge._open_place

    async def at_the_gate(*args: Any) -> int:
        await gate.arrive()
        return await merge(*args)

    monkeypatch.setattr(place_merge, "_open_place", at_the_gate)
    stores = [Store.open(ctx.settings.database.url) for _ in drafts]

    async def submit(report_id: int, person_id: int, store: Store) -> None:
        own = dataclasses.replace(ctx, store=store)
        async with store.unit():
            await reports.submit(own, report_id, person_id, None)

    try:
        await asyncio.gather(
            *(submit(d.id or 0, d.person_id or 0, s) for d, s in zip(drafts, stores, strict=True))
        )
    finally:
        for store in stores:
            await store.close()
    (place,) = await all_places(ctx)
    assert place.reports == 2


async def test_list_places_is_for_coordinators_and_leads(
    ctx: Context, clock: ManualClock
) -> None:
    """The list names area, spot, kind, seen times and the count; a lead sees the places
    their organisation's walkers reported, a volunteer is refused; a bad status is refused."""
    shift_id, (p1, _) = await walked_shift(ctx, clock)
    await file_report(ctx, shift_id, p1, [LIGHT])
    (item,) = await places.list_places(ctx, OPERATOR)
    assert (item.area, item.spot, item.kind, item.reports) == ("Centrum", "Larmtorget",
                                                               "broken_light", 1)
    assert item.first_seen_at == item.last_seen_at < datetime.now(UTC) + timedelta(days=30)
    lead = Actor(person_id=p1, role=Role.LEAD, organisation_id=1, label="lead")
    assert len(await places.list_places(ctx, lead)) == 1
    other_lead = Actor(person_id=p1, role=Role.LEAD, organisation_id=99, label="other lead")
    assert await places.list_places(ctx, other_lead) == []
    walker = Actor(person_id=p1, role=Role.VOLUNTEER, organisation_id=1, label="walker")
    with pytest.raises(PermissionDenied):
        await places.list_places(ctx, walker)
    with pytest.raises(DomainError, match="bad_place_status"):
        await places.list_places(ctx, OPERATOR, status="broken")


async def test_a_later_night_moves_last_seen_and_keeps_first_seen(
    ctx: Context, clock: ManualClock
) -> None:
    """The same spot reported after a walk a week later: one place, first seen the first
    night, last seen the later one, two reports."""
    from scheduling.walks import signups
    from tests.helpers import add_people, add_shift, seed_org_area

    org, area = await seed_org_area(ctx)
    first = await add_shift(ctx, org, area, min_walkers=1)
    later = await add_shift(ctx, org, area, min_walkers=1, start_in=timedelta(days=10))
    (walker,) = await add_people(ctx, 1, org=org)
    for shift in (first, later):
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.advance(timedelta(days=11))
    await file_report(ctx, later.id or 0, walker.id or 0, [LIGHT])  # filed in the other order
    await file_report(ctx, first.id or 0, walker.id or 0, [LIGHT])
    (place,) = await all_places(ctx)
    assert (place.first_seen_at, place.last_seen_at) == (first.start_at, later.start_at)
    assert place.reports == 2
