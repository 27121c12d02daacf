"""A person's own data (export) and the retention rules, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.dialogue.engine import Dialogue
from models.place_tables import Place
from models.tables import (
    AuditEntry,
    Conversation,
    OutboxMessage,
    Person,
    Report,
    Role,
    Signup,
)
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import NotFound
from scheduling.people.access import Actor
from scheduling.people.erasure import audit_contacts_viewed, erase_person
from scheduling.people.export_format import PROFILE_FIELDS, PROFILE_NOT_EXPORTED
from scheduling.people.privacy import export_my_data, summarise_export
from scheduling.people.retention import (
    ABANDONED_CONVERSATION,
    NOTICE_KIND,
    RETENTION_ACTION,
    RetentionResult,
    apply_retention,
    retention_step,
)
from scheduling.walks import reports, shifts, signups
from scheduling.walks.alarm_changes import acknowledge_alarm
from scheduling.walks.alarms import raise_alarm
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, add_people, add_shift, seed_org_area
from tests.test_alarm import on_a_walk
from tests.world import make_world, shift_at

DAY = timedelta(days=1)


async def add_report(
    ctx: Context, shift_id: int, person_id: int, summary: str, at: datetime
) -> Report:
    async with ctx.store.transaction() as session:
        report = Report(
            shift_id=shift_id,
            person_id=person_id,
            status="submitted",
            walkers_present=3,
            youth_met="1-10",
            mood="calm",
            areas=["Baronen"],
            summary=summary,
            created_at=at,
            submitted_at=at,
        )
        session.add(report)
    return report


async def reload(ctx: Context, table: type[Person] | type[Report], row_id: int | None) -> object:
    async with ctx.store.transaction() as session:
        return await session.get(table, row_id)


async def outbox_of(ctx: Context, person_id: int | None) -> list[OutboxMessage]:
    async with ctx.store.transaction() as session:
        rows = await session.exec(
            select(OutboxMessage).where(col(OutboxMessage.person_id) == person_id)
        )
        return list(rows.all())


async def test_export_holds_everything_about_the_person_and_nobody_else(
    ctx: Context, clock: ManualClock
) -> None:
    """Profile, sign-ups with times, check-ins, reports, conversation, messages, own actions."""
    org, area = await seed_org_area(ctx)
    anna = (await add_people(ctx, 1, org=org, prefix="Anna"))[0]
    bertil = (await add_people(ctx, 1, org=org, prefix="Bertil"))[0]
    walk = await add_shift(ctx, org, area, start_in=timedelta(hours=5))
    cancelled = await add_shift(ctx, org, area, start_in=timedelta(days=4))
    for person in (anna, bertil):
        await signups.sign_up(ctx, person.id or 0, walk.id or 0)
        await signups.sign_up(ctx, person.id or 0, cancelled.id or 0)
    await shifts.cancel_shift(ctx, OPERATOR, cancelled.id or 0, reason="Storm, ring Bertil")
    clock.advance(timedelta(hours=5))
    await signups.check_in(ctx, anna.id or 0, walk.id or 0)
    await add_report(ctx, walk.id or 0, anna.id or 0, "Lugnt vid Baronen.", clock.now())
    async with ctx.store.transaction() as session:
        session.add(
            Conversation(
                channel="telegram",
                address="4242",
                person_id=anna.id,
                flow="report",
                step="mood",
                data={"shift_id": walk.id},
                updated_at=clock.now(),
            )
        )
    await audit_contacts_viewed(ctx, Actor.of(anna, "telegram"), 2)

    data = await export_my_data(ctx, anna.id or 0)

    text = json.dumps(data, ensure_ascii=False)
    assert "Bertil" not in text and "Storm" not in text  # nobody else, no message contents
    assert data["person"]["name"] == anna.name and data["person"]["organisation"] == "IFK Kalmar"
    assert [s["shift_id"] for s in data["signups"]] == [walk.id, cancelled.id]
    first = data["signups"][0]
    assert first["shift_start"] == walk.start_at.astimezone(ctx.zone).isoformat()
    assert first["status"] == "confirmed" and first["area"] == "Baronen & Kalmar C"
    assert data["signups"][1]["shift_status"] == "cancelled"
    assert data["check_ins"] == [
        {
            "shift_id": walk.id,
            "checked_in_at": clock.now().astimezone(ctx.zone).isoformat(),
            "checked_out_at": None,
        }
    ]
    assert [r["summary"] for r in data["reports"]] == ["Lugnt vid Baronen."]
    assert data["conversations"][0]["flow"] == "report"
    assert [m["kind"] for m in data["messages"]] == ["shift_cancelled"]
    assert set(data["messages"][0]) == {
        "kind", "channel", "status", "created_at", "due_at", "sent_at", "delivery_status"
    }  # fmt: skip
    assert [a["action"] for a in data["actions"]] == ["people.contacts_viewed"]
    summary = summarise_export(data)
    assert (summary.signups, summary.upcoming, summary.reports, summary.messages) == (2, 1, 1, 1)


async def test_export_of_an_erased_person_finds_nothing(ctx: Context) -> None:
    """After erasure there is nothing left to export."""
    (person,) = await add_people(ctx, 1)
    await erase_person(ctx, OPERATOR, person.id or 0)
    with pytest.raises(NotFound):
        await export_my_data(ctx, person.id or 0)


async def test_old_report_text_is_blanked_and_the_answers_stay(
    ctx: Context, clock: ManualClock
) -> None:
    """Summaries older than report_text_retention_days go; structured fields and newer ones stay."""
    org, area = await seed_org_area(ctx)
    (walker,) = await add_people(ctx, 1, org=org)
    old_walk = await add_shift(ctx, org, area, start_in=timedelta(hours=2))
    new_walk = await add_shift(ctx, org, area, start_in=timedelta(days=60))
    old = await add_report(ctx, old_walk.id or 0, walker.id or 0, "gammal text", clock.now())
    clock.advance(timedelta(days=61))
    new = await add_report(ctx, new_walk.id or 0, walker.id or 0, "ny text", clock.now())
    clock.advance(timedelta(days=30))  # old: 91 days, new: 30 days

    result = await apply_retention(ctx)

    assert result.reports_blanked == 1
    old_after = await reload(ctx, Report, old.id)
    new_after = await reload(ctx, Report, new.id)
    assert isinstance(old_after, Report) and isinstance(new_after, Report)
    assert old_after.summary is None and new_after.summary == "ny text"
    assert (old_after.walkers_present, old_after.youth_met, old_after.mood) == (3, "1-10", "calm")
    assert (await apply_retention(ctx)).reports_blanked == 0


async def test_inactive_person_is_noticed_then_erased_after_30_days(
    ctx: Context, clock: ManualClock
) -> None:
    """Inactive past the limit: one notice; 30 days later, still inactive: erased."""
    org, area = await seed_org_area(ctx)
    (walker,) = await add_people(ctx, 1, org=org)
    past_walk = await add_shift(ctx, org, area, start_in=timedelta(hours=2))
    await add_report(ctx, past_walk.id or 0, walker.id or 0, "ok", clock.now())
    clock.advance(729 * DAY)
    assert (await apply_retention(ctx)).notices_queued == 0
    clock.advance(DAY)

    assert (await apply_retention(ctx)).notices_queued == 1
    assert (await apply_retention(ctx)).notices_queued == 0  # the same notice, not a second
    (notice,) = await outbox_of(ctx, walker.id)
    assert notice.kind == NOTICE_KIND and notice.dedupe_key.startswith(
        f"inactivity:person:{walker.id}:"
    )
    erase_on = (clock.now() + 30 * DAY).astimezone(ctx.zone).date().isoformat()
    assert notice.payload == {"days": 730, "date": erase_on}
    clock.advance(29 * DAY)
    assert (await apply_retention(ctx)).people_erased == 0
    clock.advance(DAY)

    assert (await apply_retention(ctx)).people_erased == 1
    person = await reload(ctx, Person, walker.id)
    assert isinstance(person, Person) and person.erased_at is not None and person.phone is None
    async with ctx.store.transaction() as session:
        report = (await session.exec(select(Report))).one()
        assert report.person_id is None and report.walkers_present == 3  # statistics stay
    assert (await apply_retention(ctx)).people_erased == 0


async def test_a_person_who_comes_back_is_not_erased_and_gets_a_fresh_notice_later(
    ctx: Context, clock: ManualClock
) -> None:
    """Activity after the notice cancels the erasure; a later quiet spell starts over."""
    (walker,) = await add_people(ctx, 1)
    clock.advance(730 * DAY)
    await apply_retention(ctx)
    clock.advance(DAY)
    async with ctx.store.transaction() as session:
        person = await session.get(Person, walker.id)
        assert person is not None
        person.last_active_at = clock.now()
        session.add(person)
    clock.advance(40 * DAY)
    assert await apply_retention(ctx) == RetentionResult()
    clock.advance(730 * DAY)
    assert (await apply_retention(ctx)).notices_queued == 1
    assert len(await outbox_of(ctx, walker.id)) == 2


async def test_people_still_needed_are_never_noticed_or_erased(
    ctx: Context, clock: ManualClock
) -> None:
    """Leads and coordinators while shifts lie ahead, and walkers signed up, are kept."""
    org, area = await seed_org_area(ctx)
    (lead,) = await add_people(ctx, 1, org=org, role=Role.LEAD, prefix="Lead")
    (coordinator,) = await add_people(ctx, 1, role=Role.COORDINATOR, prefix="Samordnare")
    signed, idle = await add_people(ctx, 2, org=org)
    clock.advance(800 * DAY)
    walk = await add_shift(ctx, org, area)
    async with ctx.store.transaction() as session:  # signed up long ago (no fresh activity)
        session.add(
            Signup(shift_id=walk.id or 0, person_id=signed.id or 0, status="waitlisted",
                   queued_at=clock.now() - 700 * DAY)
        )  # fmt: skip

    await apply_retention(ctx)
    assert {m.person_id for m in await notices(ctx)} == {idle.id}
    clock.advance(4 * DAY)  # the shift is over: nothing keeps them any more
    await apply_retention(ctx)
    assert {m.person_id for m in await notices(ctx)} == {
        idle.id, lead.id, coordinator.id, signed.id
    }  # fmt: skip


async def notices(ctx: Context) -> list[OutboxMessage]:
    async with ctx.store.transaction() as session:
        statement = select(OutboxMessage).where(col(OutboxMessage.kind) == NOTICE_KIND)
        return list((await session.exec(statement)).all())


async def test_retention_step_runs_once_a_day_and_is_audited(
    ctx: Context, clock: ManualClock
) -> None:
    """The ticker may call it every tick: it works once per 24 h, each run in the audit trail."""
    assert await retention_step(ctx) is not None
    clock.advance(timedelta(hours=23))
    assert await retention_step(ctx) is None
    clock.advance(timedelta(hours=1, seconds=1))
    assert await retention_step(ctx) is not None
    async with ctx.store.transaction() as session:
        statement = select(AuditEntry).where(col(AuditEntry.action) == RETENTION_ACTION)
        runs = (await session.exec(statement)).all()
    assert len(runs) == 2 and runs[0].actor_label == "retention"


def test_vandra_run_ticks_retention() -> None:
    """`vandra run`'s ticker has the retention step."""
    from bot.bootstrap_ticks import make_ticker

    ticker = make_ticker(None)  # type: ignore[arg-type]
    assert "retention" in [name for name, _ in ticker.steps]


def test_every_person_column_is_exported_or_excluded_with_a_reason() -> None:
    """"Allt vi har om dig": a column added to ``Person`` must go into the export's profile or
    be named, with the reason, in ``PROFILE_NOT_EXPORTED`` (found by review 2: the record-check
    and course dates, approval and the announcements opt-out were missing)."""
    columns = set(Person.__table__.columns.keys())  # type: ignore[attr-defined]
    exported, excluded = set(PROFILE_FIELDS), set(PROFILE_NOT_EXPORTED)
    assert not exported & excluded
    assert exported | excluded == columns, sorted(columns ^ (exported | excluded))
    assert all(reason.strip() for reason in PROFILE_NOT_EXPORTED.values())


async def test_export_holds_checks_approval_opt_out_and_the_alarms_raised(
    ctx: Context, clock: ManualClock
) -> None:
    """The record-check and course dates, approval, the announcements opt-out, and every alarm
    the person raised with its text and position; not who acknowledged it."""
    world, _ = await on_a_walk(ctx, clock)
    me = world.walkers[0]
    async with ctx.store.transaction() as session:
        row = await session.get(Person, me.id)
        assert row is not None
        row.record_checked_on = date(2026, 3, 14)
        row.course_on = date(2025, 9, 1)
        row.announcements_off = True
        session.add(row)
    raised = await raise_alarm(
        ctx, Actor.of(me, "telegram"), "hjälp vid bron", location=(56.6612, 16.3623)
    )
    await acknowledge_alarm(ctx, Actor.of(world.coordinator, "telegram"), raised.alarm_id)
    data = await export_my_data(ctx, me.id or 0)
    profile = data["person"]
    assert (profile["record_checked_on"], profile["course_on"]) == ("2026-03-14", "2025-09-01")
    assert profile["announcements_off"] is True and profile["approved_at"] is not None
    [alarm] = data["alarms"]
    assert (alarm["text"], alarm["latitude"], alarm["longitude"]) == (
        "hjälp vid bron", 56.6612, 16.3623,
    )
    assert alarm["status"] == "acknowledged" and alarm["shift_id"] == raised.shift_id
    assert not {"acknowledged_by", "acknowledged_label", "person_id"} & set(alarm)
    json.dumps(data)  # all plain values


async def test_a_registration_given_up_is_forgotten_after_30_days(
    ctx: Context, clock: ManualClock
) -> None:
    """Someone who typed their name and stopped never became a person: their conversation (the
    Telegram id and the name) goes after ``ABANDONED_CONVERSATION``; a walker's stays (found by
    review 2: it was kept for ever)."""
    await seed_org_area(ctx)
    walker = Chat(Dialogue(ctx), address="2002", telegram_id=2002)
    await walker.command("start")
    await walker.say("Bo Walker")
    await walker.tap("IFK Kalmar")
    await walker.tap("Ja, jag är minst")
    await walker.tap("Jag godkänner")
    quitter = Chat(Dialogue(ctx), address="2001", telegram_id=2001)
    await quitter.command("start")
    await quitter.say("Anna Andersson Lindqvist")
    clock.set(ctx.now() + ABANDONED_CONVERSATION - timedelta(minutes=1))
    assert (await apply_retention(ctx)).conversations_dropped == 0
    assert len(await _conversation_rows(ctx)) == 2
    clock.set(ctx.now() + timedelta(minutes=2))
    assert (await apply_retention(ctx)).conversations_dropped == 1
    [kept] = await _conversation_rows(ctx)
    assert kept.address == "2002" and kept.person_id is not None
    assert "Anna" not in json.dumps(await _conversation_rows(ctx), default=str)


async def _conversation_rows(ctx: Context) -> list[Conversation]:
    async with ctx.store.transaction() as session:
        return list((await session.exec(select(Conversation))).all())


async def test_a_walkers_words_for_a_place_go_with_the_report_text(
    ctx: Context, clock: ManualClock
) -> None:
    """The spot a walker typed for "another place" is report free text: after the retention
    period it is gone from the report and from the place (which keeps its area and kind); a
    configured place's name stays (found by review 2: the words were kept for ever and shown
    to partners)."""
    world = await make_world(ctx, walkers=3)
    walk = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    for walker in world.walkers:
        await signups.sign_up(ctx, walker.id or 0, walk.id or 0)
    clock.set(walk.end_at)
    me = world.walkers[0]
    report = await reports.open_report(ctx, me.id or 0, walk.id or 0)
    issues = [
        {"place": "other", "category": "unsafe", "spot": "Kalle Ankas port"},
        {"place": "Stortorget", "category": "broken_light"},
    ]
    await reports.answer(ctx, report.id or 0, me.id or 0, "place_issues", issues)
    await reports.submit(ctx, report.id or 0, me.id or 0, "lugnt")
    days = ctx.settings.privacy.report_text_retention_days
    clock.set(ctx.now() + timedelta(days=days - 1))
    await apply_retention(ctx)
    assert "Kalle" in str(await _places(ctx))  # not yet
    clock.set(ctx.now() + timedelta(days=2))
    await apply_retention(ctx)
    row = await reload(ctx, Report, report.id)
    assert isinstance(row, Report)
    assert row.place_issues == [
        {"place": "other", "category": "unsafe"},
        {"place": "Stortorget", "category": "broken_light"},
    ]
    assert sorted((p.spot, p.kind, p.area_id) for p in await _places(ctx)) == [
        ("", "unsafe", world.area), ("Stortorget", "broken_light", world.area),
    ]


async def _places(ctx: Context) -> list[Place]:
    async with ctx.store.transaction() as session:
        return list((await session.exec(select(Place))).all())
