"""An offered seat confirmed while its offer expires: one outcome, the one the person is told.

``sign_up`` (the confirmation) and ``expire_offers`` both decide with the shift's row locked; the
expiry reads the offer again under the lock. These tests force the two to meet: on either
database with a hook between the expiry finding the offer and locking the shift, and on
PostgreSQL with the confirmation's transaction holding the real lock while the expiry waits.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from models.db import Store
from models.tables import OutboxMessage, Shift, Signup, SignupStatus
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.walks import signups, waitlist
from tests.helpers import add_people, add_shift, seed_org_area


@dataclasses.dataclass(frozen=True)
class Offer:
    shift_id: int
    offered: int  # holds the offered seat
    next_in_line: int  # waitlisted behind


async def lapsed_offer(ctx: Context, clock: ManualClock) -> Offer:
    """One seat; its holder leaves, the first in line is offered it; the offer's time passes."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, max_walkers=1, min_walkers=1)
    holder, offered, behind = await add_people(ctx, 3, org=org)
    for person in (holder, offered, behind):
        await signups.sign_up(ctx, person.id or 0, shift.id or 0)
    cancelled = await signups.cancel_signup(ctx, holder.id or 0, shift.id or 0)
    assert cancelled.promoted_person_ids == [offered.id]
    clock.advance(ctx.settings.reminders.promotion_confirm_within + timedelta(minutes=1))
    return Offer(shift.id or 0, offered.id or 0, behind.id or 0)


@pytest.fixture
async def other(ctx: Context) -> AsyncIterator[Context]:
    """The same database through a store (an engine, a connection) of its own: another process."""
    store = Store.open(ctx.settings.database.url)
    try:
        yield dataclasses.replace(ctx, store=store)
    finally:
        await store.close()


async def statuses(ctx: Context, shift_id: int) -> dict[int, str]:
    async with ctx.store.sessions() as session:
        rows = await session.exec(select(Signup).where(col(Signup.shift_id) == shift_id))
        return {s.person_id: s.status for s in rows.all()}


async def messages(ctx: Context, kind: str) -> list[OutboxMessage]:
    async with ctx.store.sessions() as session:
        rows = await session.exec(select(OutboxMessage).where(col(OutboxMessage.kind) == kind))
        return list(rows.all())


def before_the_lock(
    monkeypatch: pytest.MonkeyPatch, first: Callable[[], Awaitable[object]]
) -> None:
    """Run ``first`` once when the expiry, having found its offers, goes to lock the shift."""
    original = waitlist.get_shift
    done: list[bool] = []

    async def hooked(session: Any, shift_id: int, *, lock: bool = False) -> Shift:
        if lock and not done:
            done.append(True)  # before: ``first`` may come through here itself
            await first()
        return await original(session, shift_id, lock=lock)

    monkeypatch.setattr(waitlist, "get_shift", hooked)


async def test_a_confirmation_just_before_the_expiry_locks_stays_confirmed(
    ctx: Context, other: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walker confirms (another process) after the expiry found the offer lapsed but before
    it locked the shift: the walker is told "confirmed", and confirmed is what the database
    keeps; nobody is told the offer expired, and the seat is not offered on."""
    offer = await lapsed_offer(ctx, clock)
    told: list[str] = []

    async def confirm() -> None:
        told.append((await signups.sign_up(other, offer.offered, offer.shift_id)).outcome)

    before_the_lock(monkeypatch, confirm)
    assert await waitlist.expire_offers(ctx) == 0
    assert told == ["confirmed"]
    now = await statuses(ctx, offer.shift_id)
    assert now[offer.offered] == SignupStatus.CONFIRMED
    assert now[offer.next_in_line] == SignupStatus.WAITLISTED
    assert await messages(ctx, "offer_expired") == []
    promoted = await messages(ctx, "promoted")
    assert [m.person_id for m in promoted] == [offer.offered]  # the first offer, no other


async def test_an_expiry_before_the_confirmation_is_what_the_walker_hears(
    ctx: Context, other: Context, clock: ManualClock
) -> None:
    """The other order: the offer expired first, so the walker who then answers joins the end of
    the line, is told so, and the seat is the next one's."""
    offer = await lapsed_offer(ctx, clock)
    assert await waitlist.expire_offers(ctx) == 1
    result = await signups.sign_up(other, offer.offered, offer.shift_id)
    assert result.outcome == "waitlisted"
    now = await statuses(ctx, offer.shift_id)
    assert (now[offer.offered], now[offer.next_in_line]) == ("waitlisted", "offered")
    (expired,) = await messages(ctx, "offer_expired")
    assert expired.person_id == offer.offered


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_on_postgresql_the_expiry_waits_for_the_confirmations_lock(
    ctx: Context, other: Context, clock: ManualClock
) -> None:
    """The confirmation's transaction holds the shift's lock (uncommitted, as a dialogue turn
    does); the expiry, which found the offer still offered, waits for it. When the confirmation
    commits, the expiry must see it: one outcome, the one the walker was told."""
    offer = await lapsed_offer(ctx, clock)
    async with other.store.unit() as session:
        told = await signups.sign_up(other, offer.offered, offer.shift_id)
        holder = (await session.exec(text("SELECT pg_backend_pid()"))).one()[0]  # type: ignore[call-overload]
        expiry = asyncio.create_task(waitlist.expire_offers(ctx))
        await blocked_by(ctx, holder, expiry)
    assert await expiry == 0
    assert told.outcome == "confirmed"
    now = await statuses(ctx, offer.shift_id)
    assert (now[offer.offered], now[offer.next_in_line]) == ("confirmed", "waitlisted")
    assert await messages(ctx, "offer_expired") == []


async def blocked_by(ctx: Context, holder: int, task: asyncio.Task[Any]) -> None:
    """Wait until some connection waits for a lock ``holder`` holds (the task got that far)."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    for _ in range(1000):
        assert not task.done(), "the expiry did not wait for the confirmation's lock"
        async with ctx.store.sessions() as session:
            waiting = (await session.exec(query, params={"pid": holder})).one()[0]  # type: ignore[call-overload]
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the expiry never reached the shift's lock")


async def test_two_processes_expiring_at_once_tell_the_walker_once(
    ctx: Context, other: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes (clocks seven seconds apart) expire the same offer: the second runs
    whole between the first finding the offer and locking the shift. One message that it
    expired, one offer to the next in line; the keys do not depend on the clock."""
    offer = await lapsed_offer(ctx, clock)
    later = dataclasses.replace(other, clock=ManualClock(clock.now() + timedelta(seconds=7)))
    counts: list[int] = []

    async def expire_elsewhere() -> None:
        counts.append(await waitlist.expire_offers(later))

    before_the_lock(monkeypatch, expire_elsewhere)
    counts.append(await waitlist.expire_offers(ctx))
    assert counts == [1, 0]
    (expired,) = await messages(ctx, "offer_expired")
    assert expired.person_id == offer.offered
    promoted = [m.person_id for m in await messages(ctx, "promoted")]
    assert promoted == [offer.offered, offer.next_in_line]


async def test_each_offer_to_one_sign_up_is_announced(ctx: Context, clock: ManualClock) -> None:
    """Offered, lapsed, in line again, offered again: each offer has its own message (the key
    numbers the offer), and so has each expiry."""
    offer = await lapsed_offer(ctx, clock)
    await waitlist.expire_offers(ctx)  # the seat goes to the next in line
    await signups.sign_up(ctx, offer.offered, offer.shift_id)  # back in line
    await signups.cancel_signup(ctx, offer.next_in_line, offer.shift_id)  # offered again
    clock.advance(ctx.settings.reminders.promotion_confirm_within + timedelta(minutes=1))
    await waitlist.expire_offers(ctx)
    keys = sorted(m.dedupe_key for m in await messages(ctx, "promoted"))
    signup_id = next(int(k.split(":")[2]) for k in keys if k.endswith(":offer:2"))
    assert f"promoted:signup:{signup_id}:offer:1" in keys
    expired = sorted(m.dedupe_key for m in await messages(ctx, "offer_expired"))
    assert expired == [
        f"offer_expired:signup:{signup_id}:offer:1",
        f"offer_expired:signup:{signup_id}:offer:2",
    ]
