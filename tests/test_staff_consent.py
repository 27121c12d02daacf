"""Leads and coordinators added by the operator consent on first contact like everyone else,
and the button that started the conversation is carried out after consent."""

from __future__ import annotations

from datetime import timedelta

from bot.dialogue.engine import Dialogue
from models.tables import Person, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.due import compute_due
from scheduling.people import directory
from scheduling.walks import signups
from scheduling.walks.safety import open_alerts
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, add_shift, seed_org_area
from tests.world import make_world, shift_at


async def staff(ctx: Context, role: str, org: int | None, telegram_id: int) -> Person:
    """A lead or coordinator as `vandra people add` makes them: registered, not consented."""
    return await directory.add_person(
        ctx, OPERATOR, name="Stina Staff", organisation=org, role=role, telegram_id=telegram_id
    )


async def test_genomfor_before_consent_is_done_after_it(ctx: Context) -> None:
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    lead = await staff(ctx, Role.LEAD, org, 7001)
    assert lead.consent_at is None
    chat = Chat(Dialogue(ctx), address="7001", telegram_id=7001)
    asked = await chat.act(f"keep:{shift.id}")
    assert "Godkänner du" in asked
    done = await chat.tap("Jag godkänner")
    assert "registrerad" in done
    assert f"Pass {shift.id} blir av som planerat" in done


async def test_kvittera_before_consent_is_done_after_it(ctx: Context, clock: ManualClock) -> None:
    world = await make_world(ctx, walkers=1)
    coordinator = await staff(ctx, Role.COORDINATOR, None, 7002)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    await signups.sign_up(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(shift.start_at)
    await signups.check_in(ctx, world.walkers[0].id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(minutes=31))
    await compute_due(ctx)
    (alert,) = await open_alerts(ctx)
    chat = Chat(Dialogue(ctx), address="7002", telegram_id=7002)
    assert coordinator.consent_at is None
    assert "Godkänner du" in await chat.act(f"ack:alert:{alert.id}")
    done = await chat.tap("Jag godkänner")
    assert f"Säkerhetslarm {alert.id} är kvitterat" in done
    assert await open_alerts(ctx) == []
    async with ctx.store.transaction() as session:
        person = await session.get(Person, coordinator.id)
        assert person is not None and person.consent_at is not None


async def test_a_newcomers_stray_button_is_not_kept(ctx: Context) -> None:
    """Somebody unknown who presses an old button registers; the button is not run after."""
    await seed_org_area(ctx)
    chat = Chat(Dialogue(ctx), address="7003", telegram_id=7003)
    await chat.act("keep:1")
    await chat.say("Ny Person")
    await chat.tap("IFK Kalmar")
    await chat.tap("Ja, jag är minst")
    done = await chat.tap("Jag godkänner")
    assert "registrerad" in done and "blir av" not in done and "behörighet" not in done
