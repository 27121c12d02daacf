"""Many shifts at once: duplicates refused unless forced (a series skips them), and cancelling
a series or a date range, each walker of each shift told once."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from models.tables import Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.messages.kinds import Kind
from scheduling.people.access import Actor
from scheduling.walks import shifts, signups
from scheduling.walks.bulk_cancel import Selection, cancel_many
from tests.helpers import OPERATOR
from tests.test_cli import seed, vandra  # noqa: F401  (the fixture)
from tests.world import make_world, outbox, person, shift_at


def spec(world_org: int, area: int, start: str, hours: int = 4) -> shifts.ShiftSpec:
    first = datetime.strptime(start, "%Y-%m-%d %H:%M")
    return shifts.ShiftSpec(world_org, area, first, first + timedelta(hours=hours))


async def test_a_duplicate_is_refused_unless_forced(ctx: Context) -> None:
    """Same area and start as a planned shift: refused, naming it; forced, added; a cancelled
    shift or another area is no duplicate."""
    world = await make_world(ctx, walkers=0)
    first = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    with pytest.raises(DomainError) as refused:
        await shifts.create_shifts(ctx, OPERATOR, spec(world.org, world.area, "2026-11-27 21:00"))
    assert (refused.value.code, refused.value.params) == ("shift_duplicate", {"shift": first.id})
    forced = await shifts.create_shifts(
        ctx, OPERATOR, spec(world.org, world.area, "2026-11-27 21:00"), force=True
    )
    assert len(forced) == 1
    await shifts.cancel_shift(ctx, OPERATOR, first.id or 0)
    await shifts.cancel_shift(ctx, OPERATOR, forced[0].id or 0)
    again = await shifts.create_shifts(
        ctx, OPERATOR, spec(world.org, world.area, "2026-11-27 21:00")
    )
    assert len(again) == 1


async def test_a_series_skips_the_dates_taken_and_names_them(ctx: Context) -> None:
    """Fridays and Saturdays over two weeks, one Saturday taken: three made, one skipped; all
    four taken: refused."""
    world = await make_world(ctx, walkers=0)
    taken = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00")
    made = await shifts.add_shifts(
        ctx, OPERATOR, spec(world.org, world.area, "2026-11-27 21:00"), {4, 5}, date(2026, 12, 5)
    )
    assert (len(made.shifts), made.skipped) == (3, [taken.id])
    with pytest.raises(DomainError) as refused:
        await shifts.add_shifts(
            ctx,
            OPERATOR,
            spec(world.org, world.area, "2026-11-27 21:00"),
            {4, 5},
            date(2026, 12, 5),
        )
    assert refused.value.code == "series_all_duplicates"


async def test_cancelling_a_series_tells_each_walker_of_each_shift_once(
    ctx: Context, clock: ManualClock
) -> None:
    """A series of four with two walkers on two of them: three cancelled, one notice per walker
    per shift; the first, already begun, is left alone; nothing left is a polite refusal."""
    world = await make_world(ctx, walkers=2)
    made = await shifts.add_shifts(
        ctx, OPERATOR, spec(world.org, world.area, "2026-11-24 21:00"), {1, 4}, date(2026, 12, 4)
    )
    ids = [s.id or 0 for s in made.shifts]
    for shift_id in ids[1:3]:
        for walker in world.walkers:
            await signups.sign_up(ctx, walker.id or 0, shift_id)
    series = made.shifts[0].series_id
    clock.set(made.shifts[0].start_at + timedelta(minutes=1))  # the first has begun
    cancelled = await cancel_many(ctx, OPERATOR, Selection(series_id=series), reason="Jul")
    assert cancelled == ids[1:]
    notices = Counter(
        (m.payload["shift_id"], m.person_id) for m in await outbox(ctx, Kind.SHIFT_CANCELLED)
    )
    assert len(notices) == 4 and set(notices.values()) == {1}
    with pytest.raises(DomainError) as refused:
        await cancel_many(ctx, OPERATOR, Selection(series_id=series))
    assert refused.value.code == "bulk_nothing"


async def test_cancelling_a_range_by_area_and_a_lead_only_their_own(ctx: Context) -> None:
    """A range narrowed to one area cancels only that area's; a lead's range takes only their
    own organisation's shifts, and naming another organisation is refused."""
    world = await make_world(ctx, walkers=0)
    from scheduling.people import directory

    other_area = await directory.add_area(ctx, OPERATOR, "Stortorget")
    other_org = await directory.add_organisation(ctx, OPERATOR, "Nattvandrarna")
    here = await shift_at(ctx, world, "2026-12-24 21:00", "2026-12-25 01:00")
    there = await shift_at(
        ctx, world, "2026-12-24 21:00", "2026-12-25 01:00", area=other_area.id or 0
    )
    foreign = await shifts.create_shifts(
        ctx, OPERATOR, spec(other_org.id or 0, other_area.id or 0, "2026-12-26 21:00")
    )
    window = Selection(
        first_day=date(2026, 12, 21), last_day=date(2027, 1, 6), area="Baronen & Kalmar C"
    )
    assert await cancel_many(ctx, OPERATOR, window) == [here.id]
    lead = Actor.of(world.lead, "telegram")
    whole = Selection(first_day=date(2026, 12, 21), last_day=date(2027, 1, 6))
    assert await cancel_many(ctx, lead, whole) == [there.id]
    with pytest.raises(PermissionDenied):
        await cancel_many(
            ctx,
            lead,
            Selection(
                first_day=date(2026, 12, 21), last_day=date(2027, 1, 6), organisation=other_org.id
            ),
        )
    async with ctx.store.transaction() as session:
        assert (await shifts.get_shift(session, foreign[0].id or 0)).status == "planned"


async def test_a_walker_cannot_cancel_a_range(ctx: Context) -> None:
    """A volunteer's request selects their organisation's shifts and is refused."""
    world = await make_world(ctx, walkers=1)
    await shift_at(ctx, world, "2026-12-24 21:00", "2026-12-25 01:00")
    walker = await person(ctx, "Vera", org=world.org, role=Role.VOLUNTEER, telegram_id=77)
    with pytest.raises(PermissionDenied):
        await cancel_many(
            ctx,
            Actor.of(walker, "telegram"),
            Selection(first_day=date(2026, 12, 21), last_day=date(2027, 1, 6)),
        )


def test_cli_edit_cancel_and_duplicates(vandra) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """`shifts edit` prints the id (or the object), bad input exits 2 with one line; a
    duplicate add exits 2 unless --force; a series names skipped dates on stderr; `cancel
    --series` and `--from/--to` print what they cancelled."""
    seed(vandra)
    add = ("shifts", "add", "--org", "IFK Kalmar", "--area", "Baronen")
    assert vandra(*add, "--start", "2030-01-04 21:00", "--end", "2030-01-05 01:00")[:2] == (
        0,
        "1\n",
    )
    code, _, err = vandra(*add, "--start", "2030-01-04 21:00", "--end", "2030-01-05 01:00")
    assert code == 2 and "(shift 1)" in err and len(err.splitlines()) == 1
    series = vandra(
        *add,
        "--start",
        "2030-01-04 21:00",
        "--end",
        "2030-01-05 01:00",
        "--repeat",
        "fri",
        "--until",
        "2030-01-18",
    )
    assert series[0] == 0 and series[1].split() == ["2", "3"] and "skipped" in series[2]
    code, out, _ = vandra(
        "shifts",
        "edit",
        "1",
        "--start",
        "2030-01-04 20:00",
        "--meeting-point",
        "Larmtorget",
        "--max",
        "5",
        "--json",
    )
    (edited,) = json.loads(out)
    assert code == 0 and edited["start"] == "2030-01-04T20:00:00+01:00"
    assert (edited["meeting_point"], edited["max_walkers"], edited["sequence"]) == (
        "Larmtorget",
        5,
        1,
    )
    for bad in (
        ["1"],
        ["1", "--min", "0"],
        ["99", "--min", "2"],
        ["1", "--start", "soon"],
        ["1", "--end", "2030-01-04 19:00"],
    ):
        code, _, err = vandra("shifts", "edit", *bad)
        assert code == 2 and len(err.strip().splitlines()) == 1, (bad, err)
    assert vandra("shifts", "cancel", "--from", "2030-01-04")[0] == 2
    assert vandra("shifts", "cancel", "--series", "1")[1] == "2 shifts cancelled: 2, 3\n"
    assert vandra("shifts", "cancel", "--from", "2030-01-01", "--to", "2030-01-31")[1] == (
        "1 shift cancelled: 1\n"
    )


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(1, 1, 1), date(2026, 12, 31)), (date(2026, 12, 1), date(9999, 12, 31))],
)
async def test_a_range_at_the_calendars_ends_is_refused_in_words(
    ctx: Context, first: date, last: date
) -> None:
    """Days outside what vandra uses (0001-01-01, 9999-12-31: the day after overflows) are
    refused as an input error naming the day, not an internal OverflowError; nothing is
    cancelled."""
    world = await make_world(ctx, walkers=0)
    shift = await shift_at(ctx, world, "2026-12-24 21:00", "2026-12-25 01:00")
    with pytest.raises(DomainError) as refused:
        await cancel_many(ctx, OPERATOR, Selection(first_day=first, last_day=last))
    assert refused.value.code == "date_out_of_range"
    async with ctx.store.sessions() as session:
        planned = await shifts.get_shift(session, shift.id or 0)
    assert planned.status == "planned"


async def test_a_range_to_the_last_usable_day_cancels(ctx: Context) -> None:
    """``--to 2999-12-31``, the last day vandra takes, is a range like any other (it was once
    refused naming 3000-01-01, a day nobody typed)."""
    world = await make_world(ctx, walkers=0)
    shift = await shift_at(ctx, world, "2026-12-24 21:00", "2026-12-25 01:00")
    await cancel_many(
        ctx, OPERATOR, Selection(first_day=date(2026, 12, 1), last_day=date(2999, 12, 31))
    )
    async with ctx.store.sessions() as session:
        cancelled = await shifts.get_shift(session, shift.id or 0)
    assert cancelled.status == "cancelled"


def test_cli_cancel_of_a_range_at_the_calendars_ends_is_one_line(vandra) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """`shifts cancel --from 0001-01-01 --to 9999-12-31` exits 2 with one line naming the
    day, never an internal error (exit 1)."""
    seed(vandra)
    code, _, err = vandra("shifts", "cancel", "--from", "0001-01-01", "--to", "9999-12-31")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "9999-12-31" in err or "0001-01-01" in err


def test_cli_times_at_the_calendars_ends_are_refused_in_one_line(vandra) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A shift, a night or a listing in year 1 or 9999 is refused as input (exit 2, one line
    naming the day), never stored (a shift in 9999 made `shifts list` of its day overflow) and
    never an internal OverflowError (exit 1)."""
    seed(vandra)
    add = ("shifts", "add", "--org", "IFK Kalmar", "--area", "Baronen")
    assert vandra(*add, "--start", "2030-01-04 21:00", "--end", "2030-01-05 01:00")[0] == 0
    for args in (
        [*add, "--start", "9999-12-31 21:00", "--end", "9999-12-31 23:00"],
        ["nights", "publish", "--area", "Baronen", "--start", "9999-12-31 21:00",
         "--end", "9999-12-31 23:00"],
        ["shifts", "edit", "1", "--start", "0001-01-01 00:30"],
        ["shifts", "edit", "1", "--start", "9999-12-31 20:00", "--end", "9999-12-31 23:00"],
        ["shifts", "list", "--from", "9999-12-31", "--to", "9999-12-31"],
    ):
        code, _, err = vandra(*args)
        assert code == 2 and len(err.strip().splitlines()) == 1, (args, code, err)
        assert "0001-01-01" in err or "9999-12-31" in err, (args, err)
    assert "9999" not in vandra("shifts", "list")[1]
