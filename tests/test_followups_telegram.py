"""End to end through the real python-telegram-bot client against the fake Bot API: the
coordinator's menu holds /uppfoljning and a partner's menu only what a partner may use; the
coordinator works the queue with buttons; a partner's /pass is refused."""

from __future__ import annotations

from sqlmodel import select

from models.tables import FollowUp, FollowUpStatus, Person, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from tests.followup_world import file_flagged_report, walked_night
from tests.test_telegram import MARIA, press, running_bot, said
from tests.world import person

POLICE = 7007


async def test_the_queue_and_a_partner_through_telegram(
    ctx: Context, clock: ManualClock
) -> None:
    night = await walked_night(ctx, clock)
    await file_flagged_report(ctx, night)
    async with ctx.store.transaction() as session:
        coordinator = await session.get(Person, night.world.coordinator.id)
        assert coordinator is not None
        coordinator.telegram_id = MARIA
    await person(ctx, "Kommunpolisen", role=Role.PARTNER, telegram_id=POLICE)
    async with running_bot(ctx) as (tg, channel):
        tg.add_user(POLICE, "Polisen")
        await channel.publish_commands()  # as when a role changes
        staff_menu = tg.commands_for({"type": "chat", "chat_id": MARIA}, "")
        assert "uppfoljning" in staff_menu and "pass" in staff_menu
        partner_menu = tg.commands_for({"type": "chat", "chat_id": POLICE}, "")
        assert partner_menu == ["start", "hjalp", "sprak", "mina_data", "radera"]
        tg.send_text(MARIA, "/uppfoljning")
        listing = await said(tg, MARIA, "Uppföljningar som väntar")
        await press(tg, MARIA, listing, "#1")
        detail = await said(tg, MARIA, "Sammanfattning (maskerad)")
        assert "[personnummer]" in (detail.text or "") and "9876" not in (detail.text or "")
        await press(tg, MARIA, detail, "Markera hanterad")
        await said(tg, MARIA, "är nu: hanterad")
        tg.send_text(POLICE, "/pass")
        await said(tg, POLICE, "behörighet")
        tg.send_text(POLICE, "/start")
        await said(tg, POLICE, "lägesbild")
    async with ctx.store.sessions() as session:
        assert (await session.exec(select(FollowUp.status))).all() == [FollowUpStatus.HANDLED]
