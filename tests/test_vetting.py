"""Vetting records: the walk course, the police-record check, its lapse and reminders."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.notifications import NotificationRenderer
from models.tables import Role
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.messages.content import Recipient
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.people.access import Actor
from scheduling.people.vetting import add_months, set_vetting
from scheduling.walks import signups
from tests.helpers import add_people, add_shift, seed_org_area, with_settings
from tests.world import outbox


def test_months_are_added_on_the_calendar() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 20), 12) == date(2027, 11, 20)
    assert add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)


async def test_a_lead_records_the_course_and_the_check(ctx: Context) -> None:
    org, _ = await seed_org_area(ctx)
    (lead,) = await add_people(ctx, 1, org=org, role=Role.LEAD, prefix="Lead")
    (walker,) = await add_people(ctx, 1, org=org)
    (stranger,) = await add_people(ctx, 1, role=Role.LEAD, prefix="Other")
    done = await set_vetting(
        ctx, Actor.of(lead, "telegram"), walker.id or 0, course_on=date(2026, 10, 3)
    )
    assert done.trained and done.course_on == date(2026, 10, 3)
    with pytest.raises(PermissionDenied):
        await set_vetting(
            ctx, Actor.of(stranger, "telegram"), walker.id or 0, record_checked_on=date.today()
        )


async def test_a_valid_record_check_may_be_required_to_sign_up(ctx: Context) -> None:
    ctx = with_settings(ctx, walks={"require_record_check": True})
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    (walker,) = await add_people(ctx, 1, org=org)
    with pytest.raises(DomainError) as refused:
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    assert refused.value.code == "record_check_required"
    today = ctx.now().astimezone(ctx.zone).date()
    lapsed = add_months(today, -12) - timedelta(days=1)
    await set_vetting(ctx, Actor.operator(), walker.id or 0, record_checked_on=lapsed)
    with pytest.raises(DomainError):
        await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    await set_vetting(ctx, Actor.operator(), walker.id or 0, record_checked_on=today)
    assert (await signups.sign_up(ctx, walker.id or 0, shift.id or 0)).outcome == "confirmed"


async def test_walker_and_lead_are_reminded_a_month_before_it_lapses(ctx: Context) -> None:
    org, _ = await seed_org_area(ctx)
    (lead,) = await add_people(ctx, 1, org=org, role=Role.LEAD, prefix="Lead")
    (walker, fresh) = await add_people(ctx, 2, org=org)
    today = ctx.now().astimezone(ctx.zone).date()
    soon = add_months(today, -12) + timedelta(days=20)  # lapses in 20 days
    await set_vetting(ctx, Actor.operator(), walker.id or 0, record_checked_on=soon)
    await set_vetting(ctx, Actor.operator(), fresh.id or 0, record_checked_on=today)
    await compute_due(ctx)
    await compute_due(ctx)
    reminders = await outbox(ctx, Kind.RECORD_CHECK_LAPSING)
    assert sorted(m.person_id for m in reminders) == sorted([walker.id, lead.id])
    render = NotificationRenderer()
    texts = {
        m.person_id: (await render(m.kind, m.payload, Recipient(m.person_id or 0, "sv"), ctx)).text
        for m in reminders
    }
    until = add_months(soon, 12).isoformat()
    assert texts[walker.id].startswith("Ditt utdrag") and until in texts[walker.id]
    assert "Walker 0" in texts[lead.id] and until in texts[lead.id]


def test_cli_vet_and_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VANDRA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("VANDRA_CONFIG", raising=False)

    def vandra(*args: str) -> tuple[int, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        return code, capsys.readouterr().out

    assert vandra("people", "add", "--name", "Lisa")[0] == 0
    assert vandra("people", "vet", "1")[0] == 2
    assert vandra("people", "vet", "1", "--record-check", "2099-01-01")[0] == 2  # a typo
    assert vandra("people", "vet", "1", "--course", "1800-01-01")[0] == 2
    assert (
        vandra("people", "vet", "1", "--course", "2026-10-03", "--record-check", "2026-11-20")[0]
        == 0
    )
    (lisa,) = json.loads(vandra("people", "list", "--json")[1])
    assert (lisa["trained"], lisa["course_on"], lisa["record_checked_on"]) == (
        True,
        "2026-10-03",
        "2026-11-20",
    )


@pytest.mark.parametrize(
    "dates",
    [{"record_checked_on": date(2062, 11, 20)}, {"course_on": date(2026, 11, 25)},
     {"course_on": date(1800, 1, 1)}],
)
async def test_a_vetting_date_in_the_future_or_long_ago_is_refused(
    ctx: Context, dates: dict[str, date]
) -> None:
    """A typo ("2062" for "2026") would keep a record check valid for decades: a date after
    today (local; the clock says 2026-11-24) or before 2000 is refused, whoever sets it (the
    chat refused a future date already, the command line and the dashboard did not), and
    nothing is stored."""
    org, _ = await seed_org_area(ctx)
    (lead,) = await add_people(ctx, 1, org=org, role=Role.LEAD, prefix="Lead")
    (walker,) = await add_people(ctx, 1, org=org)
    with pytest.raises(DomainError) as refused:
        await set_vetting(ctx, Actor.of(lead, "telegram"), walker.id or 0, **dates)
    assert refused.value.code in ("date_in_future", "date_out_of_range")
    kept = await set_vetting(ctx, Actor.operator(), walker.id or 0)
    assert (kept.course_on, kept.record_checked_on, kept.trained) == (None, None, False)
