"""Follow-ups: a report marked "needs follow-up" opens one at once and tells the coordinator
and the organisation's leads; the queue in chat (staff only, a lead only their own
organisation's, never by SMS); status changes with who and when; the note masked like report
text and blanked with it; reminders once per period; nothing identifies a young person."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.channels.gsm7 import is_gsm7
from bot.notifications import NotificationRenderer
from evaluation.followups.opening import open_follow_ups
from evaluation.followups.reminders import remind_open_follow_ups
from models.tables import AuditEntry, FollowUp, FollowUpStatus, Report
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Recipient
from scheduling.messages.kinds import Kind
from scheduling.people.retention import apply_retention
from scheduling.walks import reports
from tests.followup_world import PNR, file_flagged_report, staff_chat, walked_night
from tests.helpers import with_settings
from tests.test_sms import Phone, client_for, sms_ctx
from tests.world import outbox

GUIDANCE = "Vid oro för ett barn: gör en orosanmälan till socialtjänsten, 0480-45 00 00."
COMMAND = re.compile(r"/[a-z]")  # a Telegram command named in a text
DIGITS = ("9876", "811218", "123 45 67", "1234567")


def guided(ctx: Context) -> Context:
    return with_settings(ctx, followups={"guidance": GUIDANCE})


async def follow_ups(ctx: Context) -> list[FollowUp]:
    async with ctx.store.sessions() as session:
        return list((await session.exec(select(FollowUp).order_by(col(FollowUp.id)))).all())


def identifies_nobody(text: str) -> bool:
    return not any(digits in text for digits in DIGITS)


async def test_a_flagged_report_opens_a_follow_up_and_tells_staff_at_once(
    ctx: Context, clock: ManualClock
) -> None:
    """The walker's SMS report with "needs follow-up" opens one follow-up (open) and queues
    a notice to the coordinator and the organisation's lead, not to the other organisation's
    lead nor to walkers; its words (Telegram and GSM-7 SMS) carry the walk and the guidance,
    and nothing from the report's text."""
    ctx = guided(ctx)
    night = await walked_night(ctx, clock)
    await file_flagged_report(ctx, night)
    (opened,) = await follow_ups(ctx)
    assert opened.status == FollowUpStatus.OPEN and opened.organisation_id == night.world.org
    notices = await outbox(ctx, Kind.FOLLOW_UP_OPENED)
    assert {m.person_id for m in notices} == night.world.managers
    assert await open_follow_ups(ctx) == 0  # the tick's safety net finds nothing left
    render = NotificationRenderer()
    for recipient, sms in ((Recipient(1, "sv", telegram_id=1), False),
                           (Recipient(1, "en", phone="+46701111111"), True)):
        out = await render(Kind.FOLLOW_UP_OPENED, notices[0].payload, recipient, ctx)
        assert f"{opened.id}" in out.text and "Baronen" in out.text and GUIDANCE in out.text
        assert identifies_nobody(out.text) and "Orolig" not in out.text
        if sms:
            assert is_gsm7(out.text) and not COMMAND.search(out.text) and not out.options
        else:
            assert "/uppfoljning" in out.text and out.options[0].action == f"fu:show:{opened.id}"


async def test_the_notice_waits_for_the_end_of_quiet_hours(
    ctx: Context, clock: ManualClock
) -> None:
    """Filed at 01:20 (quiet hours 22-08), the notice is due at 08:00 local, not before."""
    night = await walked_night(ctx, clock)
    await file_flagged_report(ctx, night)
    due = {m.due_at.astimezone(ctx.zone).strftime("%H:%M") for m in
           await outbox(ctx, Kind.FOLLOW_UP_OPENED)}
    assert due == {"08:00"}


async def test_the_queue_in_chat_status_changes_and_a_masked_note(
    ctx: Context, clock: ManualClock
) -> None:
    """/uppfoljning lists it; the detail shows the masked summary only; "pågår" and
    "hanterad" record who and when (audited); a note with a personnummer and a phone number
    is stored masked; a handled follow-up leaves the list."""
    ctx = guided(ctx)
    night = await walked_night(ctx, clock)
    await file_flagged_report(ctx, night)
    (opened,) = await follow_ups(ctx)
    coordinator = staff_chat(ctx, night.world.coordinator)
    listing = await coordinator.command("followups")
    assert f"#{opened.id}" in listing and "öppen" in listing and GUIDANCE in listing
    detail = await coordinator.tap(f"#{opened.id}")
    assert "[personnummer]" in detail and "[telefon]" in detail and identifies_nobody(detail)
    assert "blandad" in detail and "medlade" in detail  # the answers, as labels
    clock.advance(timedelta(hours=9))
    assert "pågår" in await coordinator.tap("Markera pågår")
    (changed,) = await follow_ups(ctx)
    assert changed.status == FollowUpStatus.IN_PROGRESS
    assert changed.changed_by == night.world.coordinator.id and changed.changed_at == clock.now()
    await coordinator.tap("anteckning")
    assert "maskerades" in await coordinator.say(f"Pratat med socialjouren om {PNR}, 0701234567")
    (noted,) = await follow_ups(ctx)
    assert noted.note == "Pratat med socialjouren om [personnummer], [telefon]"
    assert "Senast ändrad" in await coordinator.act(f"fu:show:{opened.id}")
    await coordinator.tap("Markera hanterad")
    assert (await follow_ups(ctx))[0].status == FollowUpStatus.HANDLED
    assert "Inga uppföljningar" in await coordinator.command("followups")
    async with ctx.store.sessions() as session:
        actions = (await session.exec(select(AuditEntry.action, AuditEntry.details))).all()
    assert [a for a, _ in actions if a.startswith("followups.")] == [
        "followups.update", "followups.note", "followups.update"]
    assert all(identifies_nobody(str(details)) for _, details in actions)


async def test_who_may_see_and_change_follow_ups(ctx: Context, clock: ManualClock) -> None:
    """A volunteer can neither list, see nor change one; the lead of another organisation is
    refused too; the organisation's own lead may; each refusal is audited and changes
    nothing."""
    night = await walked_night(ctx, clock)
    await file_flagged_report(ctx, night)
    (opened,) = await follow_ups(ctx)
    walker = staff_chat(ctx, night.world.walkers[1])
    other = staff_chat(ctx, night.other_lead)
    assert "behörighet" in await walker.command("followups")
    for chat in (walker, other):
        assert "behörighet" in await chat.act(f"fu:show:{opened.id}")
        assert "behörighet" in await chat.act(f"fu:set:{opened.id}:handled")
        assert "behörighet" in await chat.act(f"fu:note:{opened.id}")
    assert "Inga uppföljningar" in await other.command("followups")  # not theirs to see
    assert (await follow_ups(ctx))[0].status == FollowUpStatus.OPEN
    async with ctx.store.sessions() as session:
        refused = (await session.exec(
            select(AuditEntry).where(col(AuditEntry.outcome) == "refused"))).all()
    assert len(refused) == 7
    assert "fu:" not in await walker.act("fu:bogus")  # a forged button: a short answer
    lead = night.world.lead
    lead.telegram_id = 9200
    async with ctx.store.transaction() as session:
        session.add(lead)
    own = staff_chat(ctx, lead)
    assert f"#{opened.id}" in await own.say("/uppföljning")
    await own.act(f"fu:set:{opened.id}:in_progress")
    assert (await follow_ups(ctx))[0].status == FollowUpStatus.IN_PROGRESS


async def test_by_sms_the_queue_is_refused(ctx: Context, clock: ManualClock) -> None:
    """The coordinator's own number texting UPPFOLJNING is told it is done in Telegram or on
    the dashboard, with "behörighet"; a forged fu: action changes nothing."""
    night = await walked_night(ctx, clock)
    await file_flagged_report(ctx, night)
    coordinator = night.world.coordinator
    coordinator.phone = "+46709999999"
    async with ctx.store.transaction() as session:
        session.add(coordinator)
    ctx = sms_ctx(ctx)
    async with client_for(ctx) as client:
        for body in ("uppfoljning", "UPPFÖLJNING", "followups", "fu:set:1:handled"):
            for reply in await Phone(client, "+46709999999").text(body):
                assert is_gsm7(reply) and not COMMAND.search(reply)
                assert "Telegram" in reply or "förstod" in reply.lower(), reply
    assert (await follow_ups(ctx))[0].status == FollowUpStatus.OPEN


async def test_reminders_come_once_per_three_days_while_open(
    ctx: Context, clock: ManualClock
) -> None:
    """Open for more than 3 days: one reminder per coordinator; asking again (a second tick,
    a restart) adds none; the next one after 6 days; none once it is in progress."""
    night = await walked_night(ctx, clock)
    await file_flagged_report(ctx, night)
    (opened,) = await follow_ups(ctx)
    clock.advance(timedelta(days=2, hours=23))
    assert await remind_open_follow_ups(ctx) == 0
    clock.advance(timedelta(hours=2))
    assert await remind_open_follow_ups(ctx) == 1
    assert await remind_open_follow_ups(ctx) == 0
    clock.advance(timedelta(days=2))
    assert await remind_open_follow_ups(ctx) == 0
    clock.advance(timedelta(days=1, hours=1))
    assert await remind_open_follow_ups(ctx) == 1
    reminders = await outbox(ctx, Kind.FOLLOW_UP_REMINDER)
    assert {m.person_id for m in reminders} == {night.world.coordinator.id}
    text = (await NotificationRenderer()(Kind.FOLLOW_UP_REMINDER, reminders[-1].payload,
                                         Recipient(1, "sv", telegram_id=1), ctx)).text
    assert "6 dagar" in text and f"{opened.id}" in text
    async with ctx.store.transaction() as session:
        row = await session.get(FollowUp, opened.id)
        assert row is not None
        row.status = FollowUpStatus.IN_PROGRESS
    clock.advance(timedelta(days=4))
    assert await remind_open_follow_ups(ctx) == 0


async def test_the_tick_opens_what_the_dialogue_did_not(ctx: Context, clock: ManualClock) -> None:
    """A flagged report submitted without the dialogue's call is opened by the tick, once."""
    night = await walked_night(ctx, clock)
    walker = night.world.walkers[2].id or 0
    report = await reports.open_report(ctx, walker, night.shift.id or 0)
    await reports.answer(ctx, report.id or 0, walker, "follow_up", True)
    await reports.submit(ctx, report.id or 0, walker, None)
    assert await open_follow_ups(ctx) == 1
    assert await open_follow_ups(ctx) == 0
    assert len(await outbox(ctx, Kind.FOLLOW_UP_OPENED)) == 2


async def test_the_note_is_blanked_with_report_text(ctx: Context, clock: ManualClock) -> None:
    """Retention blanks the follow-up's note when it blanks the report's summary."""
    night = await walked_night(ctx, clock)
    await file_flagged_report(ctx, night)
    coordinator = staff_chat(ctx, night.world.coordinator)
    await coordinator.command("followups")
    await coordinator.act(f"fu:note:{(await follow_ups(ctx))[0].id}")
    await coordinator.say("Samtal bokat med fältassistenterna")
    assert (await follow_ups(ctx))[0].note
    clock.advance(timedelta(days=ctx.settings.privacy.report_text_retention_days + 1))
    await apply_retention(ctx)
    assert (await follow_ups(ctx))[0].note is None
    async with ctx.store.sessions() as session:
        assert (await session.exec(select(Report.summary))).all() == [None]


@pytest.mark.parametrize("status", ["", "closed", "open; DROP TABLE"])
async def test_a_bad_status_is_refused_politely(
    ctx: Context, clock: ManualClock, status: str
) -> None:
    night = await walked_night(ctx, clock)
    await file_flagged_report(ctx, night)
    coordinator = staff_chat(ctx, night.world.coordinator)
    fid = (await follow_ups(ctx))[0].id
    reply = await coordinator.act(f"fu:set:{fid}:{status}")
    assert "Okänd status" in reply
    assert (await follow_ups(ctx))[0].status == FollowUpStatus.OPEN
