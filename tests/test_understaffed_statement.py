"""``staffed_shifts(understaffed_for=n)`` chooses exactly the shifts whose Python
``staffing(n)`` is "understaffed", over random shifts, sign-ups and trained walkers (from a
review of the statement's ``HAVING``)."""

from __future__ import annotations

import random
from datetime import timedelta

from models.tables import Shift, Signup, SignupStatus
from scheduling.common.context import Context
from scheduling.walks.audience import staffed_shifts
from tests.world import make_world, person, shift_at

STATUSES = [
    SignupStatus.CONFIRMED,
    SignupStatus.OFFERED,
    SignupStatus.WAITLISTED,
    SignupStatus.CANCELLED,
]


async def test_the_statement_chooses_what_python_chose(ctx: Context) -> None:
    rng = random.Random(11)
    world = await make_world(ctx, walkers=0)
    people = [
        await person(ctx, f"P{n}", org=world.org, trained=rng.random() < 0.4) for n in range(8)
    ]
    ids = []
    for day in range(30):
        shift = await shift_at(
            ctx,
            world,
            f"2026-12-{day % 28 + 1:02d} {18 + day % 4}:00",
            f"2026-12-{day % 28 + 1:02d} 23:00",
            min_walkers=rng.randint(1, 4),
            max_walkers=8,
        )
        ids.append(shift.id)
        async with ctx.store.transaction() as session:
            if rng.random() < 0.15:
                s = await session.get(Shift, shift.id)
                assert s is not None
                s.status = "cancelled"
                session.add(s)
            for p in rng.sample(people, rng.randint(0, 6)):
                session.add(
                    Signup(
                        shift_id=shift.id,
                        person_id=p.id,
                        status=rng.choice(STATUSES),
                        queued_at=ctx.now() - timedelta(days=1),
                    )
                )
    for required in range(4):
        async with ctx.store.transaction() as session:
            every = await staffed_shifts(session, shift_ids=ids)
            chosen = await staffed_shifts(session, shift_ids=ids, understaffed_for=required)
        expected = [s.shift.id for s in every if s.staffing(required) == "understaffed"]
        assert [s.shift.id for s in chosen] == expected, required
        assert [(s.confirmed, s.offered, s.trained) for s in chosen] == [
            (s.confirmed, s.offered, s.trained) for s in every if s.shift.id in expected
        ]
