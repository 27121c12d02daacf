"""The words of each message: local times, meeting point, whom to call, one-tap options."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.notifications import NotificationRenderer
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Outgoing, Recipient
from scheduling.messages.kinds import Kind
from scheduling.walks import signups
from scheduling.walks.shifts import get_shift
from tests.world import World, make_world, shift_at

render = NotificationRenderer()


async def say(ctx: Context, kind: str, payload: dict[str, Any], language: str = "sv") -> Outgoing:
    return await render(kind, payload, Recipient(person_id=1, language=language), ctx)


async def night(ctx: Context) -> tuple[World, int]:
    world = await make_world(ctx, walkers=2)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    return world, shift.id or 0


async def test_reminder_says_when_where_and_whom_to_call(ctx: Context) -> None:
    """Swedish first: local time, meeting point, the lead's number, a one-tap cancel; never a
    fellow volunteer's number."""
    world, shift = await night(ctx)
    message = await say(ctx, Kind.REMINDER, {"shift_id": shift, "signup_id": 1})
    assert "fre 27/11 kl. 21:00–01:00" in message.text
    assert "Mötesplats: Entrén mot stationen." in message.text
    assert "Ring gruppledaren Lena Ledare, +46701111111" in message.text
    assert all(w.phone not in message.text for w in world.walkers if w.phone)
    assert [(o.label, o.action) for o in message.options] == [("Avboka", f"cancel:{shift}")]
    english = await say(ctx, Kind.REMINDER, {"shift_id": shift}, "en")
    assert "Fri 27/11 21:00–01:00" in english.text and "Meeting point" in english.text
    assert english.options[0].label == "Cancel"


ALARM_PAYLOAD: dict[str, Any] = {
    "alarm_id": 3, "name": "Anna", "phone": "+46701234567", "area": "Baronen",
    "organisation": "IFK Kalmar", "start": "2026-11-27T20:00:00+00:00",
    "end": "2026-11-28T00:00:00+00:00", "text": "hjälp", "lat": 56.66, "lon": 16.36,
    "raised_at": "2026-11-27T21:00:00+00:00", "ack_by": [1], "repetition": 1,
}


MORNING_PAYLOAD: dict[str, Any] = {"night": "2026-11-27", "lines": [
    {"key": "morning.walks", "params": {"planned": 1, "held": 1, "cancelled": 0}},
    {"key": "morning.mood", "params": {"items": {"items": [
        {"key": "morning.mood_item", "params": {"area": "Baronen",
                                                "mood": {"t": "coordinator.mood.calm"}}}]}}},
]}


@pytest.mark.parametrize("language", ["sv", "en"])
async def test_every_kind_renders_completely(ctx: Context, language: str) -> None:
    """Each kind has words in both languages, with every placeholder filled in."""
    _, shift = await night(ctx)
    confirm_by = datetime(2026, 11, 27, 17, 0, tzinfo=UTC).isoformat()
    night_at = datetime(2026, 12, 11, 20, 0, tzinfo=UTC)
    night_payload = {"night_id": 4, "area": "Stortorget", "start": night_at.isoformat(),
                     "end": (night_at + timedelta(hours=4)).isoformat(), "organisation": "IFK"}
    payloads: dict[str, dict[str, Any]] = {
        Kind.REMINDER: {"signup_id": 1, "label": "2h"},
        Kind.CALL_FOR_WALKERS: {"confirmed": 1, "min_walkers": 3},
        Kind.STAFFING_NOTICE: {
            "confirmed": 1,
            "min_walkers": 3,
            "trained": 0,
            "trained_required": 1,
            "called": 4,
        },
        Kind.FINAL_CHECK: {"confirmed": 1, "min_walkers": 3},
        Kind.CHECK_IN_PROMPT: {},
        Kind.REPORT_PROMPT: {},
        Kind.SAFETY_ALERT: {"alert_id": 7, "repetition": 2},
        Kind.SAFETY_ACKNOWLEDGED: {"alert_id": 7, "by_person_id": 1},
        Kind.REPLACE_PROMPT: {},
        Kind.REPLACEMENT_OFFER: {},
        Kind.PROMOTED: {"needs_confirmation": True, "confirm_by": confirm_by},
        Kind.OFFER_EXPIRED: {},
        Kind.SHIFT_CANCELLED: {"reason": "Storm"},
        Kind.SHIFT_CHANGED: {
            "changed": ["time", "area", "meeting_point"],
            "old": {"start": confirm_by, "end": confirm_by, "area": "A", "meeting_point": "P"},
            "new": {"start": confirm_by, "end": confirm_by, "area": "B", "meeting_point": "Q"},
        },
        Kind.BROADCAST: {"text": "Extra pass!", "author": "Maria"},
        Kind.SMS_UNREACHABLE: {"name": "Anna"},
        Kind.INACTIVITY_NOTICE: {"days": 730, "date": "2027-01-01"},
        Kind.APPROVAL_REQUEST: {"person_id": 1, "name": "Bea", "organisation": "IFK Kalmar"},
        Kind.APPROVED: {"outcome": "confirmed"},
        Kind.REJECTED: {},
        Kind.ATTENDANCE_CHECK: {},
        Kind.RECORD_CHECK_LAPSING: {"person_id": 1, "name": "Bea", "until": "2027-01-31"},
        Kind.ALARM: ALARM_PAYLOAD,
        Kind.ALARM_LOCATION: ALARM_PAYLOAD,
        Kind.ALARM_ACKNOWLEDGED: {**ALARM_PAYLOAD, "by": "Maria"},
        Kind.ALARM_CANCELLED: ALARM_PAYLOAD,
        Kind.GROUP_INTRO: {"signup_id": 1},
        Kind.NUMBER_SHARED: {"share_id": 1, "name": "Anna"},  # no such share: forgotten
        Kind.RUNNING_LATE: {"name": "Anna", "minutes": 15},
        Kind.FOLLOW_UP_OPENED: {"follow_up_id": 1},
        Kind.FOLLOW_UP_REMINDER: {"follow_up_id": 1, "days": 3},
        Kind.MORNING_PICTURE: MORNING_PAYLOAD,
        Kind.NIGHTS_PUBLISHED: {"count": 6, "area": "Stortorget", "first": confirm_by,
                                "last": confirm_by},
        Kind.NIGHT_ALLOCATED: night_payload,
        Kind.NIGHT_HANDED_ON: {**night_payload, "taken_over": True},
        Kind.NIGHT_OFFERED: {**night_payload, "short": True},
    }
    kinds = {v for k, v in vars(Kind).items() if k.isupper()}
    assert set(payloads) == kinds
    for kind, payload in payloads.items():
        message = await say(ctx, kind, {"shift_id": shift, **payload}, language)
        assert message.text and "{" not in message.text, (kind, message.text)
        for option in message.options:
            assert option.label and "{" not in option.label


async def test_safety_alert_names_the_group_and_offers_acknowledge(
    ctx: Context, clock: ManualClock
) -> None:
    """To leads and coordinators: how late, who checked in and is still out (with numbers;
    not who has checked out since), 112, and Kvittera."""
    world, shift = await night(ctx)
    async with ctx.store.sessions() as session:
        start = (await get_shift(session, shift)).start_at
    clock.set(start)
    for walker in world.walkers:
        await signups.check_in(ctx, walker.id or 0, shift)
    await signups.check_out(ctx, world.walkers[1].id or 0, shift)
    message = await say(ctx, Kind.SAFETY_ALERT, {"shift_id": shift, "alert_id": 7, "repetition": 1})
    assert "45 min efter planerat slut" in message.text
    assert "Inte utcheckade: Walker 0 +46702222200." in message.text
    assert "Walker 1" not in message.text
    assert "112" in message.text
    assert [(o.label, o.action) for o in message.options] == [("Kvittera", "ack:alert:7")]


async def test_promotion_asks_to_confirm_by_a_local_time(ctx: Context) -> None:
    """A seat offered from the waitlist: confirm or decline, by a deadline in local time."""
    _, shift = await night(ctx)
    deadline = datetime(2026, 11, 27, 17, 0, tzinfo=UTC).isoformat()
    message = await say(
        ctx, Kind.PROMOTED, {"shift_id": shift, "needs_confirmation": True, "confirm_by": deadline}
    )
    assert "Bekräfta senast fre 27/11 18:00" in message.text
    assert [o.action for o in message.options] == [f"signup:{shift}", f"cancel:{shift}"]


async def test_times_on_the_october_dst_night_are_local(ctx: Context, clock: ManualClock) -> None:
    """22:00-03:00 over the change back to winter time reads 22:00–03:00."""
    clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-10-24 22:00", "2026-10-25 03:00")
    message = await say(ctx, Kind.CHECK_IN_PROMPT, {"shift_id": shift.id})
    assert shift.end_at - shift.start_at == timedelta(hours=6)
    assert "checka in" in message.text.lower()
    reminder = await say(ctx, Kind.REMINDER, {"shift_id": shift.id})
    assert "lör 24/10 kl. 22:00–03:00" in reminder.text


async def test_unknown_kind_or_gone_shift_still_says_something(ctx: Context) -> None:
    """A kind without words of its own, or a shift that no longer exists: a plain text."""
    assert (await say(ctx, "something_new", {"text": "Hej"})).text == "Hej"
    assert (await say(ctx, Kind.REMINDER, {"shift_id": 999})).text
