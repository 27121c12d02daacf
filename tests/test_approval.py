"""Approval before the first walk (``[walks] approval``): pending walkers, the leads' notice,
deep links that wait, approving and rejecting in chat and on the command line."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.cli import main
from bot.dialogue.engine import Dialogue
from bot.notifications import NotificationRenderer
from models.db import Store
from models.schema import upgrade
from models.tables import OutboxMessage, OutboxStatus, Person, Role, Signup
from scheduling.common.clock import ManualClock
from scheduling.common.config import settings_from_mapping
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.messages.content import Outgoing, Recipient
from scheduling.messages.kinds import Kind
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import approval, signups
from scheduling.walks.approval import REJECTED_GRACE, erase_rejected
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, add_people, add_shift, seed_org_area, with_settings


@pytest.fixture
def required(ctx: Context) -> Context:
    return with_settings(ctx, walks={"approval": "required"})


async def register(chat: Chat, org: str = "IFK Kalmar") -> str:
    await chat.say("Bea Berg")
    await chat.tap(org)
    await chat.tap("Ja, jag är minst")
    return await chat.tap("Jag godkänner")


async def messages(ctx: Context, kind: str) -> list[OutboxMessage]:
    async with ctx.store.transaction() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.kind) == kind)
            .order_by(col(OutboxMessage.id))
        )
        return list(rows.all())


async def rendered(ctx: Context, message: OutboxMessage, language: str = "sv") -> Outgoing:
    recipient = Recipient(person_id=message.person_id or 0, language=language)
    return await NotificationRenderer()(message.kind, message.payload, recipient, ctx)


async def stored(ctx: Context, person_id: int) -> Person:
    async with ctx.store.transaction() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        return person


async def newcomer(ctx: Context) -> Person:
    async with ctx.store.transaction() as session:
        return (await session.exec(select(Person).where(col(Person.name) == "Bea Berg"))).one()


async def test_a_registered_walker_waits_and_the_leads_are_asked(required: Context) -> None:
    """Registration through the bot ends "registrerad" and a word on what comes next; the
    organisation's leads get a notice with Godkänn / Avböj; the walker cannot sign up."""
    ctx = required
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    leads = await add_people(ctx, 2, org=org, role=Role.LEAD, prefix="Lead")
    await add_people(ctx, 1, role=Role.COORDINATOR, prefix="Coord")
    chat = Chat(Dialogue(ctx))
    await chat.command("start")
    done = await register(chat)
    assert "registrerad" in done and "godkänner" in done
    bea = await newcomer(ctx)
    assert not bea.approved and bea.may_walk
    asked = await messages(ctx, Kind.APPROVAL_REQUEST)
    assert sorted(m.person_id for m in asked) == sorted(p.id for p in leads)
    notice = await rendered(ctx, asked[0])
    assert "Bea Berg" in notice.text and "IFK Kalmar" in notice.text
    assert [o.label for o in notice.options] == ["Godkänn", "Avböj"]
    with pytest.raises(DomainError) as refused:
        await signups.sign_up(ctx, bea.id or 0, shift.id or 0)
    assert refused.value.code == "approval_pending"


async def test_the_coordinator_is_asked_when_the_organisation_has_no_lead(
    required: Context,
) -> None:
    ctx = required
    await seed_org_area(ctx)
    coordinators = await add_people(ctx, 1, role=Role.COORDINATOR, prefix="Coord")
    chat = Chat(Dialogue(ctx))
    await chat.command("start")
    await register(chat)
    asked = await messages(ctx, Kind.APPROVAL_REQUEST)
    assert [m.person_id for m in asked] == [coordinators[0].id]


async def test_a_deep_link_waits_and_completes_on_approval(required: Context) -> None:
    """The shift of a deep link is kept while the walker waits; the lead's Godkänn signs
    them up and they are told so ("anmäld"). Nothing is signed up before."""
    ctx = required
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    (lead,) = await add_people(ctx, 1, org=org, role=Role.LEAD, prefix="Lead")
    chat = Chat(Dialogue(ctx))
    await chat.command("start", f"pass_{shift.id}")
    done = await register(chat)
    assert "registrerad" in done and f"pass {shift.id}" in done
    async with ctx.store.transaction() as session:
        assert (await session.exec(select(Signup))).all() == []
    await directory_telegram(ctx, lead.id or 0, 5005)
    lead_chat = Chat(Dialogue(ctx), address="5005", telegram_id=5005)
    (notice,) = await messages(ctx, Kind.APPROVAL_REQUEST)
    approve = (await rendered(ctx, notice)).options[0].action
    answer = await lead_chat.act(approve)
    assert "Bea Berg" in answer and "godkänd" in answer
    bea = await newcomer(ctx)
    assert bea.approved and bea.waiting_shift_id is None
    async with ctx.store.transaction() as session:
        (signup,) = (await session.exec(select(Signup))).all()
    assert (signup.person_id, signup.status) == (bea.id, "confirmed")
    (welcome,) = await messages(ctx, Kind.APPROVED)
    text = (await rendered(ctx, welcome)).text
    assert "anmäld" in text and "godkänd" in text
    english = (await rendered(ctx, welcome, "en")).text
    assert "signed up" in english


async def directory_telegram(ctx: Context, person_id: int, telegram_id: int) -> None:
    async with ctx.store.transaction() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        person.telegram_id = telegram_id
        session.add(person)


async def test_pressing_sign_up_while_waiting_keeps_the_shift(required: Context) -> None:
    ctx = required
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    chat = Chat(Dialogue(ctx))
    await chat.command("start")
    await register(chat)
    text = await chat.act(f"signup:{shift.id}")
    assert "anmäld" not in text and f"pass {shift.id}" in text
    assert (await newcomer(ctx)).waiting_shift_id == shift.id


async def test_a_lead_of_another_organisation_may_not_approve(required: Context) -> None:
    ctx = required
    await seed_org_area(ctx)
    other = await directory.add_organisation(ctx, OPERATOR, "Nattvandrarna")
    (stranger,) = await add_people(ctx, 1, org=other.id, role=Role.LEAD, prefix="Lead")
    chat = Chat(Dialogue(ctx))
    await chat.command("start")
    await register(chat)
    bea = await newcomer(ctx)
    with pytest.raises(PermissionDenied):
        await approval.approve_person(ctx, Actor.of(stranger, "telegram"), bea.id or 0)
    assert not (await stored(ctx, bea.id or 0)).approved


async def test_a_rejected_walker_is_told_and_then_erased(
    required: Context, clock: ManualClock
) -> None:
    """Avböj: a kind message is queued, and once it has gone the person is erased."""
    ctx = required
    org, _ = await seed_org_area(ctx)
    (lead,) = await add_people(ctx, 1, org=org, role=Role.LEAD, prefix="Lead")
    chat = Chat(Dialogue(ctx))
    await chat.command("start")
    await register(chat)
    bea = await newcomer(ctx)
    await approval.reject_person(ctx, Actor.of(lead, "telegram"), bea.id or 0)
    (told,) = await messages(ctx, Kind.REJECTED)
    assert "inte godkänts" in (await rendered(ctx, told)).text
    assert await erase_rejected(ctx) == 0  # the message has not gone yet
    async with ctx.store.transaction() as session:
        row = await session.get(OutboxMessage, told.id)
        assert row is not None
        row.status = OutboxStatus.SENT
        session.add(row)
    assert await erase_rejected(ctx) == 1
    gone = await stored(ctx, bea.id or 0)
    assert gone.erased_at is not None and gone.telegram_id is None and gone.name == "-"


async def test_an_unsendable_rejection_still_erases_after_the_grace(
    required: Context, clock: ManualClock
) -> None:
    ctx = required
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx))
    await chat.command("start")
    await register(chat)
    bea = await newcomer(ctx)
    await approval.reject_person(ctx, OPERATOR, bea.id or 0)
    assert await erase_rejected(ctx) == 0
    clock.advance(REJECTED_GRACE)
    assert await erase_rejected(ctx) == 1


async def test_open_approval_lets_walkers_in_at_once(ctx: Context) -> None:
    """``approval = "open"``: nobody is asked, the walker signs up straight away."""
    ctx = with_settings(ctx, walks={"approval": "open"})
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    await add_people(ctx, 1, org=org, role=Role.LEAD, prefix="Lead")
    chat = Chat(Dialogue(ctx))
    await chat.command("start", f"pass_{shift.id}")
    await register(chat)
    assert await messages(ctx, Kind.APPROVAL_REQUEST) == []
    assert "anmäld" in await chat.tap("Anmäl mig")


async def test_people_added_by_the_operator_are_approved(required: Context) -> None:
    (person,) = await add_people(required, 1)
    assert person.approved


def test_approval_is_required_by_default() -> None:
    assert settings_from_mapping({}).walks.approval == "required"


def test_cli_lists_approves_and_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`people list --json` carries `approved`; `people approve|reject ID` decide."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VANDRA_DATABASE_URL", url)
    monkeypatch.delenv("VANDRA_CONFIG", raising=False)

    def vandra(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    assert vandra("orgs", "add", "IFK Kalmar")[0] == 0
    assert vandra("people", "add", "--name", "Lisa", "--org", "IFK Kalmar")[0] == 0
    pending = asyncio.run(_register_two(url))
    code, out, err = vandra("people", "list", "--json")
    assert code == 0, err
    approved = {p["name"]: p["approved"] for p in json.loads(out)}
    assert approved == {"Lisa": True, "Bea": False, "Cai": False}
    code, out, err = vandra("people", "approve", str(pending[0]))
    assert code == 0 and "approved" in out, err
    assert vandra("people", "approve", str(pending[0]))[0] == 2  # already approved
    code, out, err = vandra("people", "reject", str(pending[1]))
    assert code == 0 and "rejected" in out, err
    assert vandra("people", "reject", "999")[0] == 2
    code, out, _ = vandra("people", "list", "--json")
    approved = {p["name"]: p["approved"] for p in json.loads(out)}
    assert approved["Bea"] is True and approved["Cai"] is False


async def _register_two(url: str) -> list[int]:
    settings = settings_from_mapping({"database": {"url": url}})
    store = Store.open(url)
    await upgrade(store.engine)
    ctx = Context(store=store, settings=settings, clock=ManualClock(_now()))
    try:
        made = []
        for name in ("Bea", "Cai"):
            person = await directory.register_person(
                ctx, name=name, organisation_id=1, language="sv", channel="telegram"
            )
            made.append(person.id or 0)
        return made
    finally:
        await store.close()


def _now() -> datetime:
    return datetime.now(UTC)


async def test_an_applicant_waiting_for_approval_hears_no_news_and_no_calls(
    required: Context, clock: ManualClock
) -> None:
    """Until a lead approves them, a newcomer gets none of the organisation's announcements
    (where and when its groups meet), no call for walkers a lead sends and none the tick
    sends for an understaffed shift: they could not sign up, and the organisation has not
    vetted them. Once approved, they get all three."""
    from scheduling.messages.announcements import broadcast
    from scheduling.messages.audiences import Audience
    from scheduling.messages.broadcast import call_for_walkers
    from scheduling.messages.due import compute_due
    from tests.world import make_world, outbox, shift_at

    ctx = required
    world = await make_world(ctx, walkers=1)
    chat = Chat(Dialogue(ctx))
    await chat.command("start")
    await register(chat)
    bea = await newcomer(ctx)
    assert not bea.approved
    lead = Actor.of(world.lead, "telegram")

    async def reached() -> set[str]:
        """What reached Bea this round (a new shift each round, 48 h ahead): the lead's
        announcement, the lead's call for walkers, the tick's call."""
        start = clock.now().astimezone(ctx.zone) + timedelta(hours=47, minutes=59)
        ends = start + timedelta(hours=4)
        shift = await shift_at(
            ctx, world, f"{start:%Y-%m-%d %H:%M}", f"{ends:%Y-%m-%d %H:%M}", min_walkers=3
        )
        before = {m.id for m in await outbox(ctx, Kind.BROADCAST)}
        before |= {m.id for m in await outbox(ctx, Kind.CALL_FOR_WALKERS)}
        news = Audience(organisation_id=world.org)
        await broadcast(ctx, lead, "Vi möts vid Kalmar C 21:00.", news)
        await call_for_walkers(ctx, lead, shift.id or 0)
        clock.advance(timedelta(minutes=1))
        await compute_due(ctx)  # the shift's 48 h call
        rows = await outbox(ctx, Kind.BROADCAST) + await outbox(ctx, Kind.CALL_FOR_WALKERS)
        clock.advance(timedelta(hours=2))
        names = {Kind.BROADCAST: "news", Kind.CALL_FOR_WALKERS: "call"}
        return {
            f"{names[m.kind]} ({m.dedupe_key.split(':')[0]})"
            for m in rows
            if m.person_id == bea.id and m.id not in before
        }

    assert await reached() == set()
    await approval.approve_person(ctx, lead, bea.id or 0)
    assert await reached() == {"news (broadcast)", "call (broadcast)", "call (staffing)"}
