"""Shifts and series: DST-correct series, all-or-nothing creation, roles, cancellation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from bot.dialogue.engine import Dialogue
from models.tables import AuditEntry, OutboxMessage, Role, Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, InvalidInput, PermissionDenied
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import shifts, signups
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, add_people, add_shift, local, seed_org_area


async def test_weekly_series_across_october_dst(ctx: Context) -> None:
    """Fri+Sat 22:00-03:00 across the 2027 fall-back keeps local times; that night is 6 h."""
    org, area = await seed_org_area(ctx)
    spec = shifts.ShiftSpec(
        organisation=org, area=area, start=local("2027-10-22 22:00"), end=local("2027-10-23 03:00")
    )
    created = await shifts.create_shifts(
        ctx, OPERATOR, spec, repeat={4, 5}, until=date(2027, 11, 6)
    )
    assert len(created) == 6
    for shift in created:
        start_local = shift.start_at.astimezone(ctx.zone)
        end_local = shift.end_at.astimezone(ctx.zone)
        assert (start_local.hour, end_local.hour) == (22, 3)
        assert start_local.weekday() in (4, 5)
    lengths = {s.start_at.astimezone(ctx.zone).date(): s.end_at - s.start_at for s in created}
    assert lengths[date(2027, 10, 30)] == timedelta(hours=6)  # clocks go back 2027-10-31
    assert lengths[date(2027, 10, 29)] == timedelta(hours=5)
    assert lengths[date(2027, 11, 5)] == timedelta(hours=5)


async def test_series_over_a_skipped_time_reads_it_as_calendars_do(ctx: Context) -> None:
    """A series whose 02:30 falls in the spring-forward gap (2027-03-28) is made whole; that
    night's 02:30 is read with the offset before the change (RFC 5545): 03:30 summer time."""
    org, area = await seed_org_area(ctx)
    spec = shifts.ShiftSpec(
        organisation=org, area=area, start=local("2027-03-20 02:30"), end=local("2027-03-20 05:00")
    )
    created = await shifts.create_shifts(ctx, OPERATOR, spec, repeat={6}, until=date(2027, 4, 4))
    starts = {s.start_at.astimezone(ctx.zone).date(): s for s in created}
    assert sorted(starts) == [date(2027, 3, 21), date(2027, 3, 28), date(2027, 4, 4)]
    gap_night = starts[date(2027, 3, 28)]
    assert gap_night.start_at.isoformat() == "2027-03-28T01:30:00+00:00"
    assert gap_night.start_at.astimezone(ctx.zone).strftime("%H:%M") == "03:30"
    assert gap_night.end_at - gap_night.start_at == timedelta(hours=1, minutes=30)


@pytest.mark.parametrize(
    ("first", "night", "fold", "length"),
    [
        ("2027-03-19 22:00", date(2027, 3, 27), None, timedelta(hours=4)),  # 02:00 is skipped
        ("2027-10-22 22:00", date(2027, 10, 30), None, timedelta(hours=4)),  # 02:00 comes twice
        ("2027-10-22 22:00", date(2027, 10, 30), "earlier", timedelta(hours=4)),
        ("2027-10-22 22:00", date(2027, 10, 30), "later", timedelta(hours=5)),
    ],
)
async def test_the_usual_22_to_02_series_over_a_clock_change(
    ctx: Context, first: str, night: date, fold: shifts.Fold | None, length: timedelta
) -> None:
    """Fri+Sat 22:00-02:00 for three weeks over the night the clocks change: every walk is
    made; on that night a skipped 02:00 is the moment the clocks jump (four real hours, as
    every night), a repeated 02:00 the first one unless the fold says the later."""
    org, area = await seed_org_area(ctx)
    start = local(first)
    spec = shifts.ShiftSpec(
        organisation=org, area=area, start=start, end=start + timedelta(hours=4), fold=fold
    )
    until = start.date() + timedelta(days=15)
    created = await shifts.create_shifts(ctx, OPERATOR, spec, repeat={4, 5}, until=until)
    lengths = {s.start_at.astimezone(ctx.zone).date(): s.end_at - s.start_at for s in created}
    assert len(lengths) == 6
    assert lengths[night] == length
    assert all(v == timedelta(hours=4) for d, v in lengths.items() if d != night)


async def test_risk_night_raises_the_default_minimum(ctx: Context) -> None:
    """A risk night's default minimum is [walks] risk_night_min_walkers."""
    org, area = await seed_org_area(ctx)
    ordinary = await add_shift(ctx, org, area)
    risky = await add_shift(ctx, org, area, start_in=timedelta(days=4), risk_night=True)
    assert (ordinary.min_walkers, risky.min_walkers) == (3, 4)
    assert risky.risk_night


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"min_walkers": 5, "max_walkers": 3}, "min_above_max"),
        ({"max_walkers": 0}, "bad_walker_count"),
    ],
)
async def test_bad_sizes_are_refused(ctx: Context, kwargs: dict[str, int], code: str) -> None:
    """Impossible walker counts are refused."""
    org, area = await seed_org_area(ctx)
    with pytest.raises(InvalidInput) as caught:
        await add_shift(ctx, org, area, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code


async def test_past_shift_refused_unless_recording(ctx: Context) -> None:
    """Chat users cannot create past shifts; the operator may, to record walks held."""
    org, area = await seed_org_area(ctx)
    spec = shifts.ShiftSpec(
        organisation=org, area=area, start=local("2026-11-20 21:00"), end=local("2026-11-21 01:00")
    )
    with pytest.raises(DomainError, match="shift_in_past"):
        await shifts.create_shifts(ctx, OPERATOR, spec)
    assert len(await shifts.create_shifts(ctx, OPERATOR, spec, allow_past=True)) == 1


async def test_roles_for_creating_shifts(ctx: Context) -> None:
    """A volunteer and another organisation's lead are refused and audited; the own lead is not."""
    org, area = await seed_org_area(ctx)
    other = await directory.add_organisation(ctx, OPERATOR, "Nattvandrarna Kalmar")
    (volunteer,) = await add_people(ctx, 1, org=org)
    (own_lead,) = await add_people(ctx, 1, org=org, role=Role.LEAD, prefix="Lead")
    (other_lead,) = await add_people(ctx, 1, org=other.id, role=Role.LEAD, prefix="Other")
    spec = shifts.ShiftSpec(
        organisation=org, area=area, start=local("2026-12-04 21:00"), end=local("2026-12-05 01:00")
    )
    for person in (volunteer, other_lead):
        with pytest.raises(PermissionDenied):
            await shifts.create_shifts(ctx, Actor.of(person, "telegram"), spec)
    assert await shifts.list_shifts(ctx) == []
    created = await shifts.create_shifts(ctx, Actor.of(own_lead, "telegram"), spec)
    assert len(created) == 1
    async with ctx.store.sessions() as session:
        refusals = (
            await session.exec(select(AuditEntry).where(AuditEntry.outcome == "refused"))
        ).all()
    assert {r.actor_id for r in refusals} == {volunteer.id, other_lead.id}
    assert all(r.action == "shifts.add" for r in refusals)


async def test_cancelling_tells_everyone_signed_up(ctx: Context) -> None:
    """A cancelled shift queues one message to each confirmed and waitlisted walker."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=1)
    people = await add_people(ctx, 2, org=org)
    for person in people:
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    await shifts.cancel_shift(ctx, OPERATOR, shift.id or 0, "Storm")
    async with ctx.store.sessions() as session:
        queued = (await session.exec(select(OutboxMessage))).all()
        stored = await session.get(Shift, shift.id)
    assert sorted(m.person_id or 0 for m in queued) == sorted(p.id or 0 for p in people)
    assert all(m.kind == "shift_cancelled" and m.payload["reason"] == "Storm" for m in queued)
    assert stored is not None and stored.status == "cancelled"
    with pytest.raises(DomainError, match="shift_already_cancelled"):
        await shifts.cancel_shift(ctx, OPERATOR, shift.id or 0)


async def test_upcoming_list_hides_finished_shifts(ctx: Context, clock) -> None:  # type: ignore[no-untyped-def]
    """Without a range, only shifts that have not ended are listed; ended ones show completed."""
    org, area = await seed_org_area(ctx)
    first = await add_shift(ctx, org, area, start_in=timedelta(hours=2), hours=2)
    second = await add_shift(ctx, org, area, start_in=timedelta(days=2))
    clock.advance(timedelta(hours=5))
    upcoming = await shifts.list_shifts(ctx)
    assert [v.shift.id for v in upcoming] == [second.id]
    everything = await shifts.list_shifts(ctx, date(2026, 11, 1), date(2026, 12, 31))
    assert [v.status_at(ctx.now()) for v in everything] == ["completed", "planned"]
    assert everything[0].shift.id == first.id


async def test_views_count_each_shifts_own_signups_whatever_the_filter(ctx: Context) -> None:
    """Head-counts are the same whether a shift is viewed alone, by a range or in a list."""
    org, area = await seed_org_area(ctx)
    soon = await add_shift(ctx, org, area, start_in=timedelta(days=1), max_walkers=2)
    later = await add_shift(ctx, org, area, start_in=timedelta(days=5))
    people = await add_people(ctx, 4, org=org, trained=True)
    for person in people[:3]:
        await signups.sign_up(ctx, person.id or 0, soon.id or 0)  # two seats, one waitlisted
    await signups.sign_up(ctx, people[3].id or 0, later.id or 0)
    expected = {soon.id: (2, 1, 2), later.id: (1, 0, 1)}

    def counts(views: list[shifts.ShiftView]) -> dict[int | None, tuple[int, int, int]]:
        return {v.shift.id: (v.confirmed, v.waitlisted, v.trained) for v in views}

    async with ctx.store.sessions() as session:
        alone = [await shifts.get_shift_view(session, ctx, s.id or 0) for s in (soon, later)]
        both = await shifts.shift_views(session, ctx, shift_ids=[soon.id or 0, later.id or 0])
        everything = await shifts.shift_views(session, ctx)
        after_soon = await shifts.shift_views(
            session, ctx, start_from=soon.start_at + timedelta(hours=1)
        )
        before_later = await shifts.shift_views(session, ctx, start_before=later.start_at)
        of_org = await shifts.shift_views(session, ctx, organisation_id=org)
    for views in (alone, both, everything, of_org):
        assert counts(views) == expected
    assert counts(after_soon) == {later.id: expected[later.id]}
    assert counts(before_later) == {soon.id: expected[soon.id]}


async def test_a_card_reads_the_view_and_the_persons_own_signup_in_one_go(ctx: Context) -> None:
    """The card's statement gives the same view as get_shift_view, and each person's own
    sign-up (waitlisted, confirmed, cancelled, none)."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=1)
    first, second, third, outsider = await add_people(ctx, 4, org=org, trained=True)
    await signups.sign_up(ctx, first.id or 0, shift.id or 0)
    await signups.sign_up(ctx, second.id or 0, shift.id or 0)
    await signups.sign_up(ctx, third.id or 0, shift.id or 0)
    await signups.cancel_signup(ctx, third.id or 0, shift.id or 0)
    async with ctx.store.sessions() as session:
        plain = await shifts.get_shift_view(session, ctx, shift.id or 0)
        mine = {}
        for person in (first, second, third, outsider):
            view, signup = await shifts.get_shift_view_with_signup(
                session, ctx, shift.id or 0, person.id or 0
            )
            assert view == plain
            mine[person.id] = signup.status if signup else None
        with pytest.raises(DomainError):
            await shifts.get_shift_view_with_signup(session, ctx, 999_999, first.id or 0)
    assert (plain.confirmed, plain.waitlisted, plain.trained) == (1, 1, 1)
    assert list(mine.values()) == ["confirmed", "waitlisted", "cancelled", None]


@pytest.mark.parametrize(
    ("now", "day", "repeat", "made"),
    [
        ("2026-10-19T10:00", "lör", "Bara en gång", 1),  # 2026-10-24: 02:00 comes twice
        ("2026-10-12T10:00", "fre", "Varje fredag och lördag", 17),
        ("2026-03-23T10:00", "lör", "Bara en gång", 1),  # 2026-03-28: 02:00 is skipped
        ("2026-03-02T10:00", "fre", "Varje fredag och lördag", 17),
    ],
)
async def test_a_coordinator_plans_22_to_02_in_chat_over_a_clock_change(
    ctx: Context, clock: ManualClock, now: str, day: str, repeat: str, made: int
) -> None:
    """The chat's one-tap 22:00 and 02:00 make the walk (or all eight weeks of Fridays and
    Saturdays) on and over the nights the clocks change, where they were once refused."""
    clock.set(datetime.fromisoformat(now).replace(tzinfo=UTC))
    await seed_org_area(ctx)
    maria = await directory.add_person(
        ctx, OPERATOR, name="Maria", telegram_id=5005, role=Role.COORDINATOR
    )
    await directory.record_consent(ctx, maria.id or 0)
    chat = Chat(Dialogue(ctx), address="5005", telegram_id=5005, name="Maria")
    await chat.command("newshift")
    await chat.tap("IFK Kalmar")
    await chat.tap("Baronen")
    await chat.tap(day)
    await chat.tap("22:00")
    await chat.tap("02:00")
    await chat.tap(repeat)
    if repeat != "Bara en gång":
        await chat.tap("8 veckor")
    await chat.tap("Skapa")
    async with ctx.store.sessions() as session:
        created = (await session.exec(select(Shift))).all()
    assert len(created) == made
    assert all(s.end_at - s.start_at == timedelta(hours=4) for s in created)
