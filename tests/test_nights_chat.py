"""Open nights in chat: a lead lists them, takes one, stands as reserve, gives one back; the
coordinator allocates; by SMS none of it (a sender number proves nobody a lead)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.dialogue.engine import Dialogue
from bot.notifications import NotificationRenderer
from models.tables import AuditEntry, Role, Shift
from scheduling.common.context import Context
from scheduling.messages.content import Recipient
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.people import directory
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, with_settings
from tests.nights_world import Kommun, kommun, publish
from tests.world import outbox


async def chats(ctx: Context, k: Kommun) -> list[Chat]:
    """Each lead in Telegram (ids 501, 502, 503) and the coordinator (509), consented."""
    dialogue = Dialogue(ctx)
    found = []
    for n, person in enumerate([*k.leads, k.coordinator]):
        telegram_id = 509 if person is k.coordinator else 501 + n
        await _link(ctx, person.id or 0, telegram_id)
        found.append(Chat(dialogue, address=str(telegram_id), telegram_id=telegram_id))
    return found


async def _link(ctx: Context, person_id: int, telegram_id: int) -> None:
    from models.tables import Person

    async with ctx.store.transaction() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        person.telegram_id = telegram_id
        session.add(person)


async def test_a_lead_takes_a_night_and_another_stands_as_reserve(ctx: Context) -> None:
    k = await kommun(ctx)
    night = await publish(ctx, k)
    ifk, rk, _, coordinator = await chats(ctx, k)
    text = await ifk.command("nights")
    assert "Stortorget" in text and "ledig" in text
    assert await ifk.tap(f"Ta natten {night}") and "är er" in ifk.text
    await rk.command("nights")
    assert f"Ta natten {night}" not in " ".join(rk.labels)
    assert "reserv" in await rk.tap(f"Ställ upp som reserv {night}")
    listing = await coordinator.command("nights")
    assert "IFK Kalmar" in listing and "reserv: Röda Korset" in listing
    assert "Lämna tillbaka natten" in await ifk.act(f"ngive:{night}")
    assert "lämnad tillbaka" in await ifk.tap("Ja, lämna tillbaka")
    (offer,) = await outbox(ctx, Kind.NIGHT_OFFERED)
    shown = await NotificationRenderer()(offer.kind, offer.payload,
                                         Recipient(offer.person_id or 0, "sv"), ctx)
    assert [o.action for o in shown.options] == [f"night:{night}"]
    assert "är er" in await rk.act(f"night:{night}")


async def test_the_coordinator_allocates_in_chat(ctx: Context) -> None:
    ctx = with_settings(ctx, nights={"allocation": "coordinator"})
    k = await kommun(ctx)
    night = await publish(ctx, k)
    ifk, rk, _, coordinator = await chats(ctx, k)
    assert "ansökt" in await ifk.act(f"night:{night}")
    assert "ansökt" in await rk.act(f"night:{night}")
    await coordinator.command("nights")
    assert "fördelad" in await coordinator.tap(f"Natt {night} till Röda Korset")
    async with ctx.store.sessions() as session:
        shift = (await session.exec(select(Shift))).one()
    assert shift.organisation_id == k.orgs[1]


async def test_by_sms_a_lead_reaches_no_night(ctx: Context) -> None:
    """The command and every night button are refused by SMS and audited as refused."""
    k = await kommun(ctx)
    night = await publish(ctx, k)
    lead = await directory.add_person(ctx, OPERATOR, name="Sms Lead", phone="+46701234567",
                                      organisation=k.orgs[0], role=Role.LEAD)
    await directory.record_consent(ctx, lead.id or 0)
    sms = Chat(Dialogue(ctx), channel="sms", address="+46701234567", telegram_id=None,
               phone="+46701234567")
    answers = [await sms.act(action) for action in (
        f"night:{night}", f"nreserve:{night}", f"ngive:{night}", f"nalloc:{night}:{k.orgs[0]}",
        "nights")]
    answers.append(await sms.command("nights"))
    assert all("Telegram" in answer for answer in answers), answers
    await compute_due(ctx)
    async with ctx.store.sessions() as session:
        rows = (await session.exec(select(Shift))).all()
        refused = (await session.exec(
            select(AuditEntry).where(col(AuditEntry.outcome) == "refused"))).all()
    assert rows == []
    assert len(await outbox(ctx, Kind.NIGHT_ALLOCATED)) == 0
    assert len(refused) == 6
