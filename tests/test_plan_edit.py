"""Editing the plan: a moved shift tells its walkers old and new, reminders follow the new time
(never a stale one for the old), the calendar keeps the UID with a higher SEQUENCE; counts,
permissions and duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from icalendar import Calendar

from bot.i18n import t
from bot.notifications import NotificationRenderer
from models.tables import AuditEntry, OutboxStatus, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.links import calendar
from scheduling.messages.content import Recipient
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.people.access import Actor
from scheduling.walks import signups
from scheduling.walks.editing import ShiftChange, edit_shift
from scheduling.walks.shifts import get_shift
from tests.fakes.senders import RecordingSender
from tests.helpers import OPERATOR
from tests.test_dispatch import dispatcher
from tests.world import make_world, outbox, person, shift_at


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


async def sign_up(ctx: Context, people: list, shift_id: int) -> None:  # type: ignore[type-arg]
    for walker in people:
        await signups.sign_up(ctx, walker.id or 0, shift_id)


async def test_a_move_tells_everyone_signed_up_old_and_new(ctx: Context) -> None:
    """Confirmed and waitlisted walkers each get one "Ändrat" naming the old and new time;
    the lead who is not signed up gets none; a walker can cancel from it."""
    world = await make_world(ctx, walkers=3)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", max_walkers=2)
    await sign_up(ctx, world.walkers, shift.id or 0)
    change = ShiftChange(start=at("2026-11-27 22:00"), end=at("2026-11-28 02:00"))
    await edit_shift(ctx, OPERATOR, shift.id or 0, change)
    notices = await outbox(ctx, Kind.SHIFT_CHANGED)
    assert sorted(n.person_id or 0 for n in notices) == sorted(w.id or 0 for w in world.walkers)
    recipient = Recipient(person_id=world.walkers[0].id or 0, language="sv")
    text = await NotificationRenderer()(notices[0].kind, notices[0].payload, recipient, ctx)
    assert text.text.startswith("Ändrat: passet fre 27/11 kl. 21:00–01:00")
    assert "Tid: fre 27/11 kl. 21:00–01:00 → fre 27/11 kl. 22:00–02:00" in text.text
    assert [o.action for o in text.options] == [f"cancel:{shift.id}"]
    english = await NotificationRenderer()(
        notices[0].kind, notices[0].payload, Recipient(person_id=1, language="en"), ctx
    )
    assert "Time: Fri 27/11 21:00–01:00 → Fri 27/11 22:00–02:00" in english.text


async def test_meeting_point_and_area_changes_are_named_and_counts_alone_tell_nobody(
    ctx: Context,
) -> None:
    """A new meeting point is shown old → new and used everywhere; a new maximum alone is
    not a walker's news."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await sign_up(ctx, world.walkers, shift.id or 0)
    await edit_shift(ctx, OPERATOR, shift.id or 0, ShiftChange(max_walkers=6))
    assert await outbox(ctx, Kind.SHIFT_CHANGED) == []
    await edit_shift(ctx, OPERATOR, shift.id or 0, ShiftChange(meeting_point="Larmtorget"))
    (notice,) = await outbox(ctx, Kind.SHIFT_CHANGED)
    said = await NotificationRenderer()(notice.kind, notice.payload, Recipient(1, "sv"), ctx)
    assert "Mötesplats: Entrén mot stationen → Larmtorget" in said.text
    reminder = await NotificationRenderer()(
        Kind.REMINDER, {"shift_id": shift.id, "signup_id": 1}, Recipient(1, "sv"), ctx
    )
    assert "Mötesplats: Larmtorget." in reminder.text
    async with ctx.store.transaction() as session:
        assert (await get_shift(session, shift.id or 0)).sequence == 2


async def test_a_reminder_for_the_old_time_is_not_sent_and_the_new_times_come(
    ctx: Context, clock: ManualClock
) -> None:
    """The 24h reminder queued for the old time is expired as "shift moved", never sent; the
    moved shift's 24h and 2h reminders come at their own moments, once each."""
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 19:00", "2026-11-27 23:00")
    await sign_up(ctx, world.walkers, shift.id or 0)
    telegram = RecordingSender("telegram")
    clock.set(shift.start_at - timedelta(hours=24))
    assert (await compute_due(ctx))["reminders"] == 2  # queued, not yet sent
    change = ShiftChange(start=at("2026-11-28 19:00"), end=at("2026-11-28 23:00"))
    moved = await edit_shift(ctx, OPERATOR, shift.id or 0, change)
    await dispatcher(ctx, clock, telegram).dispatch_once()
    walkers = {w.id for w in world.walkers}
    to_walkers = [s for s in telegram.sent if s.recipient.person_id in walkers]
    assert {s.message.text.rstrip(":") for s in to_walkers} == {Kind.SHIFT_CHANGED}
    stale = await outbox(ctx, Kind.REMINDER)
    assert {(m.status, m.last_error) for m in stale} == {
        (OutboxStatus.EXPIRED, "not sent: shift moved")
    }
    for before in (timedelta(hours=24), timedelta(hours=2)):
        clock.set(moved.start_at - before)
        assert (await compute_due(ctx))["reminders"] == 2
        assert (await compute_due(ctx))["reminders"] == 0
        await dispatcher(ctx, clock, telegram).dispatch_once()
    sent = [s for s in telegram.sent if s.message.text.rstrip(":") == Kind.REMINDER]
    assert len(sent) == 4 and all(s.valid_until == moved.start_at for s in sent)
    assert {
        m.dedupe_key.rsplit(":", 1)[-1]
        for m in await outbox(ctx, Kind.REMINDER)
        if m.status == OutboxStatus.SENT
    } == {"r1"}


async def test_a_move_after_a_reminders_moment_sends_no_late_one(
    ctx: Context, clock: ManualClock
) -> None:
    """Moved 3 hours before the new start: the new 24h reminder's moment has passed, so the
    change notice stands for it; the 2h reminder still comes."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 19:00", "2026-11-27 23:00")
    await sign_up(ctx, world.walkers, shift.id or 0)
    clock.set(shift.start_at - timedelta(hours=3))
    await compute_due(ctx)  # the 24h reminder of the old time
    change = ShiftChange(start=at("2026-11-27 20:00"), end=at("2026-11-28 00:00"))
    moved = await edit_shift(ctx, OPERATOR, shift.id or 0, change)
    assert (await compute_due(ctx))["reminders"] == 0
    clock.set(moved.start_at - timedelta(hours=2))
    assert (await compute_due(ctx))["reminders"] == 1


async def test_a_move_past_the_october_clock_change_keeps_real_hours(
    ctx: Context, clock: ManualClock
) -> None:
    """From Friday 23/10 (summer time) to Friday 30/10 (winter time), 21:00 local both: the
    2h reminder comes at 19:00 local on the new night (18:00 UTC), the notice shows local
    times, and the feed's DTSTART says 21:00 Europe/Stockholm."""
    clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-10-23 21:00", "2026-10-24 01:00")
    await sign_up(ctx, world.walkers, shift.id or 0)
    change = ShiftChange(start=at("2026-10-30 21:00"), end=at("2026-10-31 01:00"))
    moved = await edit_shift(ctx, OPERATOR, shift.id or 0, change)
    assert moved.start_at == datetime(2026, 10, 30, 20, 0, tzinfo=UTC)
    clock.set(datetime(2026, 10, 23, 17, 0, tzinfo=UTC))  # the old night's 2h moment
    assert (await compute_due(ctx))["reminders"] == 0
    clock.set(datetime(2026, 10, 29, 20, 0, tzinfo=UTC))  # 24h before, in real hours
    assert (await compute_due(ctx))["reminders"] == 1
    clock.set(datetime(2026, 10, 30, 17, 59, tzinfo=UTC))
    assert (await compute_due(ctx))["reminders"] == 0
    clock.set(datetime(2026, 10, 30, 18, 0, tzinfo=UTC))
    assert (await compute_due(ctx))["reminders"] == 1
    due = {m.payload["label"]: m.due_at for m in await outbox(ctx, Kind.REMINDER)}
    assert due == {
        "24h": datetime(2026, 10, 29, 20, 0, tzinfo=UTC),
        "2h": datetime(2026, 10, 30, 18, 0, tzinfo=UTC),
    }
    (notice,) = await outbox(ctx, Kind.SHIFT_CHANGED)
    said = await NotificationRenderer()(notice.kind, notice.payload, Recipient(1, "sv"), ctx)
    assert "Tid: fre 23/10 kl. 21:00–01:00 → fre 30/10 kl. 21:00–01:00" in said.text
    event = await feed_event(ctx, world.org)
    assert event["DTSTART"].dt == datetime(2026, 10, 30, 21, 0, tzinfo=ctx.zone)


async def feed_event(ctx: Context, org: int) -> dict:  # type: ignore[type-arg]
    """The organisation feed's one event, parsed."""
    url = await calendar.feed_url_for_organisation(ctx, org)
    feed = await calendar.feed_for_token(ctx, url.rsplit("/", 1)[1].removesuffix(".ics"))
    assert feed is not None
    body = calendar.render_ics(feed, partial(t, "sv"), ctx)
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    return dict(event)


async def test_the_calendar_keeps_the_uid_and_raises_the_sequence(ctx: Context) -> None:
    """Parsed before and after: the same UID, SEQUENCE 0 → 1 → 2, the new start and location;
    cancelling raises it once more."""
    world = await make_world(ctx, walkers=0)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    before = await feed_event(ctx, world.org)
    await edit_shift(ctx, OPERATOR, shift.id or 0, ShiftChange(start=at("2026-11-27 20:00")))
    after = await feed_event(ctx, world.org)
    assert str(after["UID"]) == str(before["UID"]) == f"shift-{shift.id}@vandra"
    assert (int(before["SEQUENCE"]), int(after["SEQUENCE"])) == (0, 1)
    assert after["DTSTART"].dt.hour == 20 and before["DTSTART"].dt.hour == 21
    await edit_shift(ctx, OPERATOR, shift.id or 0, ShiftChange(meeting_point="Larmtorget"))
    again = await feed_event(ctx, world.org)
    assert int(again["SEQUENCE"]) == 2 and str(again["LOCATION"]) == "Larmtorget"
    from scheduling.walks.shifts import cancel_shift

    await cancel_shift(ctx, OPERATOR, shift.id or 0)
    assert int((await feed_event(ctx, world.org))["SEQUENCE"]) == 3


async def test_lowering_max_below_the_seats_taken_is_refused(ctx: Context) -> None:
    """Three confirmed: max 2 is refused (nobody is moved off), max 3 is fine; raising it
    again offers the new seat to the first on the waitlist."""
    world = await make_world(ctx, walkers=4)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00", max_walkers=3)
    await sign_up(ctx, world.walkers, shift.id or 0)
    with pytest.raises(DomainError) as refused:
        await edit_shift(ctx, OPERATOR, shift.id or 0, ShiftChange(max_walkers=2))
    assert refused.value.code == "max_below_taken" and refused.value.params["taken"] == 3
    assert "kan inte bli 2" in t("sv", "error.max_below_taken", **refused.value.params)
    await edit_shift(ctx, OPERATOR, shift.id or 0, ShiftChange(max_walkers=4))
    (promoted,) = await outbox(ctx, Kind.PROMOTED)
    assert promoted.person_id == world.walkers[3].id


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (ShiftChange(), "nothing_to_change"),
        (ShiftChange(end=at("2026-11-27 20:00")), "end_before_start"),
        (ShiftChange(start=at("2026-11-20 21:00")), "shift_in_past"),
        (ShiftChange(min_walkers=9), "min_above_max"),
        (ShiftChange(start=at("2026-11-27 22:00"), end=at("2026-11-28 23:00")), "shift_too_long"),
        (ShiftChange(area="Nowhere"), "area_not_found"),
        (ShiftChange(meeting_point="x" * 201), "text_too_long"),
    ],
)
async def test_bad_changes_are_refused_and_change_nothing(
    ctx: Context, change: ShiftChange, code: str
) -> None:
    """Each bad edit names what is wrong; the shift stays as it was and nobody is told."""
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    with pytest.raises(DomainError) as refused:
        await edit_shift(ctx, OPERATOR, shift.id or 0, change)
    assert refused.value.code == code
    async with ctx.store.transaction() as session:
        same = await get_shift(session, shift.id or 0)
    assert (same.start_at, same.sequence, same.meeting_point) == (shift.start_at, 0, None)
    assert await outbox(ctx, Kind.SHIFT_CHANGED) == []


async def test_a_lead_edits_only_their_own_organisation(ctx: Context) -> None:
    """Another organisation's lead is refused (audited); the own lead may."""
    world = await make_world(ctx, walkers=0)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    other = await person(ctx, "Olle", role=Role.LEAD, telegram_id=4242)
    with pytest.raises(PermissionDenied):
        await edit_shift(
            ctx, Actor.of(other, "telegram"), shift.id or 0, ShiftChange(min_walkers=2)
        )
    await edit_shift(
        ctx, Actor.of(world.lead, "telegram"), shift.id or 0, ShiftChange(min_walkers=2)
    )
    async with ctx.store.sessions() as session:
        from sqlmodel import col, select

        rows = (
            await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "shifts.edit"))
        ).all()
    assert sorted(r.outcome for r in rows) == ["ok", "refused"]


async def test_moving_onto_another_shift_of_the_area_is_refused(ctx: Context) -> None:
    """Same area, same start: a duplicate, refused with the other shift's number."""
    world = await make_world(ctx, walkers=0)
    first = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    second = await shift_at(ctx, world, "2026-11-28 21:00", "2026-11-29 01:00")
    change = ShiftChange(start=at("2026-11-27 21:00"), end=at("2026-11-28 01:00"))
    with pytest.raises(DomainError) as refused:
        await edit_shift(ctx, OPERATOR, second.id or 0, change)
    assert (refused.value.code, refused.value.params["shift"]) == ("shift_duplicate", first.id)


async def test_a_started_or_cancelled_shift_is_not_moved(ctx: Context, clock: ManualClock) -> None:
    """Once begun, the start stays (the end may still move); a cancelled shift is not edited."""
    world = await make_world(ctx, walkers=0)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    clock.set(shift.start_at + timedelta(minutes=5))
    with pytest.raises(DomainError) as refused:
        await edit_shift(ctx, OPERATOR, shift.id or 0, ShiftChange(start=at("2026-11-27 22:00")))
    assert refused.value.code == "shift_started"
    await edit_shift(ctx, OPERATOR, shift.id or 0, ShiftChange(end=at("2026-11-28 02:00")))
