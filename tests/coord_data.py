"""A hand-built month of walks (November 2026, clock at Tue 24 Nov) whose statistics are known.

Organisations A = IFK Kalmar, B = Nattugglorna; areas Baronen, Larmtorget. Local times (CET):

| shift | org | area       | when (local)            | min/max | what happened                   |
| ----- | --- | ---------- | ----------------------- | ------- | ------------------------------- |
| S7    | A   | Baronen    | Fri 30 Oct 21:00–01:00  | 2/4     | P2 walked (outside the range)   |
| S1    | A   | Baronen    | Fri  6 Nov 21:00–01:00  | 2/4     | P1 in 21:00 out 00:30, P2 in    |
|       |     |            |                         |         | 21:05 no out, P3 absent; P1 and |
|       |     |            |                         |         | P2 reported (3 and 2 present),  |
|       |     |            |                         |         | P3's report is a draft          |
| S2    | A   | Larmtorget | Sat  7 Nov 20:00–00:00  | 3/5     | risk night; P1 20–00, P4 20–23; |
|       |     |            |                         |         | no report                       |
| S3    | A   | Baronen    | Fri 13 Nov 21:00–01:00  | 2/4     | cancelled                       |
| S4    | B   | Baronen    | Sat 14 Nov 23:00–03:00  | 2/4     | nobody checked in, P6 reported  |
|       |     |            |                         |         | 2 present, nothing happened     |
| S5    | B   | Larmtorget | Fri 20 Nov 21:00–01:00  | 2/3     | P5 signed up, nothing else      |
| S6    | A   | Baronen    | Fri 27 Nov 21:00–01:00  | 2/4     | in the future; P2 signed up     |

P1, P2 and P6 are trained; trained_walkers_per_shift is 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, update

from models.tables import Report, Shift, ShiftStatus, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.people import directory
from scheduling.walks import shifts
from tests.helpers import OPERATOR, local


@dataclass
class DataSet:
    org_a: int
    org_b: int
    baronen: int
    larmtorget: int
    people: dict[str, int]
    shifts: dict[str, int]


def at(text: str, ctx: Context) -> datetime:
    """A local ``YYYY-MM-DD HH:MM`` as aware UTC."""
    return local(text).replace(tzinfo=ctx.zone).astimezone(UTC)


async def shift_at(
    ctx: Context,
    org: int,
    area: int,
    start: str,
    hours: int,
    min_walkers: int,
    max_walkers: int,
    risk: bool = False,
) -> int:
    spec = shifts.ShiftSpec(
        organisation=org,
        area=area,
        start=local(start),
        end=local(start) + timedelta(hours=hours),
        min_walkers=min_walkers,
        max_walkers=max_walkers,
        risk_night=risk,
    )
    created = await shifts.create_shifts(ctx, OPERATOR, spec, allow_past=True, force=True)
    return created[0].id or 0


def signup(
    shift_id: int,
    person_id: int,
    ctx: Context,
    checked_in: str | None = None,
    checked_out: str | None = None,
) -> Signup:
    queued = datetime(2026, 10, 1, tzinfo=UTC)
    return Signup(
        shift_id=shift_id,
        person_id=person_id,
        status=SignupStatus.CONFIRMED,
        queued_at=queued,
        confirmed_at=queued,
        checked_in_at=at(checked_in, ctx) if checked_in else None,
        checked_out_at=at(checked_out, ctx) if checked_out else None,
    )


def report(shift_id: int, person_id: int, status: str = "submitted", **fields: Any) -> Report:
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    return Report(
        shift_id=shift_id,
        person_id=person_id,
        status=status,
        created_at=moment,
        submitted_at=moment if status == "submitted" else None,
        **fields,
    )


async def build(ctx: Context) -> DataSet:
    """Create the data set described in the module docstring."""
    a = (await directory.add_organisation(ctx, OPERATOR, "IFK Kalmar")).id or 0
    b = (await directory.add_organisation(ctx, OPERATOR, "Nattugglorna")).id or 0
    baronen = (await directory.add_area(ctx, OPERATOR, "Baronen", "Kalmar C")).id or 0
    larm = (await directory.add_area(ctx, OPERATOR, "Larmtorget", "Fontänen")).id or 0
    people: dict[str, int] = {}
    for name, org, trained, phone in (
        ("P1", a, True, "0701234561"),
        ("P2", a, True, "0701234562"),
        ("P3", a, False, None),
        ("P4", a, False, None),
        ("P5", b, False, None),
        ("P6", b, True, "0701234566"),
    ):
        person = await directory.add_person(
            ctx, OPERATOR, name=f"Walker {name}", organisation=org, trained=trained, phone=phone
        )
        people[name] = person.id or 0
    s = {
        "S7": await shift_at(ctx, a, baronen, "2026-10-30 21:00", 4, 2, 4),
        "S1": await shift_at(ctx, a, baronen, "2026-11-06 21:00", 4, 2, 4),
        "S2": await shift_at(ctx, a, larm, "2026-11-07 20:00", 4, 3, 5, risk=True),
        "S3": await shift_at(ctx, a, baronen, "2026-11-13 21:00", 4, 2, 4),
        "S4": await shift_at(ctx, b, baronen, "2026-11-14 23:00", 4, 2, 4),
        "S5": await shift_at(ctx, b, larm, "2026-11-20 21:00", 4, 2, 3),
        "S6": await shift_at(ctx, a, baronen, "2026-11-27 21:00", 4, 2, 4),
    }
    p = people
    async with ctx.store.transaction() as session:
        session.add_all(
            [
                signup(s["S7"], p["P2"], ctx, "2026-10-30 21:00", "2026-10-31 01:00"),
                signup(s["S1"], p["P1"], ctx, "2026-11-06 21:00", "2026-11-07 00:30"),
                signup(s["S1"], p["P2"], ctx, "2026-11-06 21:05"),
                signup(s["S1"], p["P3"], ctx),
                signup(s["S2"], p["P1"], ctx, "2026-11-07 20:00", "2026-11-08 00:00"),
                signup(s["S2"], p["P4"], ctx, "2026-11-07 20:00", "2026-11-07 23:00"),
                signup(s["S3"], p["P1"], ctx),
                signup(s["S4"], p["P6"], ctx),
                signup(s["S5"], p["P5"], ctx),
                signup(s["S6"], p["P2"], ctx),
                report(
                    s["S1"],
                    p["P1"],
                    walkers_present=3,
                    youth_met="11-30",
                    mood="mixed",
                    alcohol="some",
                    drugs=False,
                    help_given=["mediation"],
                    services_contacted=["police"],
                    place_issues=[{"place": "Larmtorget", "category": "broken_light"}],
                    felt_safe="partly",
                    follow_up=True,
                    summary="Bråk vid kiosken, polisen kom.",
                    areas=["Larmtorget", "Stortorget"],
                ),
                report(
                    s["S1"],
                    p["P2"],
                    walkers_present=2,
                    youth_met="1-10",
                    mood="calm",
                    place_issues=[
                        {"place": "Larmtorget", "category": "broken_light"},
                        {"place": "Stortorget", "category": "glass"},
                    ],
                    felt_safe="yes",
                ),
                report(s["S1"], p["P3"], status="draft", youth_met="50+", mood="unruly"),
                report(
                    s["S4"],
                    p["P6"],
                    walkers_present=2,
                    youth_met="0",
                    mood="calm",
                    nothing_happened=True,
                    place_issues=[{"place": "Larmtorget", "category": "broken_light"}],
                    felt_safe="yes",
                ),
            ]
        )
        await session.exec(
            update(Shift)
            .where(col(Shift.id) == s["S3"])
            .values(status=ShiftStatus.CANCELLED, cancelled_at=at("2026-11-10 12:00", ctx))
        )
    return DataSet(a, b, baronen, larm, people, s)
