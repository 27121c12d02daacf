"""Saturday morning: the follow-up Karin asked for reaches the coordinator and the lead, the
partners get the night's morning picture (Telegram and SMS), and the coordinator takes the
follow-up on in Telegram."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.demo.cast import COORDINATOR, GUARDS, POLICE
from bot.demo.talk import deliver, say, show, tap, telegram_says
from bot.demo.world import Demo
from models.tables import Shift


async def the_morning(demo: Demo, friday: Shift) -> None:
    zone = demo.ctx.zone
    morning = datetime.combine(friday.end_at.astimezone(zone).date(),
                               demo.ctx.settings.evaluation.morning_summary_at, zone)
    say("Saturday 08:00: the follow-up reaches the coordinator; the partners' morning picture")
    demo.clock.set(max(demo.clock.now(), morning + timedelta(minutes=1)))
    sms_before = len(demo.twilio.sent)
    await deliver(demo)
    coordinator = COORDINATOR.telegram_id or 0
    notice = await telegram_says(demo, coordinator, "behöver följas upp")
    show("Maria", "Telegram", notice.text or "")
    police = await telegram_says(demo, POLICE.telegram_id or 0, "Lägesbild")
    for line in (police.text or "").splitlines():
        show("Kommunpolisen", "Telegram", line)
    for sms in demo.twilio.sent[sms_before:]:
        if sms.to == GUARDS.phone:
            for line in sms.body.splitlines():
                show(sms.to, "SMS", line)
    say("The coordinator opens the follow-up (the summary is masked) and takes it on")
    await tap(demo, coordinator, notice, "Visa uppföljningen")
    detail = await telegram_says(demo, coordinator, "Sammanfattning (maskerad)")
    for line in (detail.text or "").splitlines()[:6]:
        show("Maria", "Telegram", line)
    await tap(demo, coordinator, detail, "Markera pågår")
    show("Maria", "Telegram", (await telegram_says(demo, coordinator, "är nu")).text or "")
