"""The weekend itself, on an accelerated clock: reminders and alerts, check-in, check-out and
the reports after the walk."""

from __future__ import annotations

from datetime import timedelta

import click

from bot.demo.cast import COORDINATOR, LEAD, NEWCOMER, NEWCOMER_ID, WALKERS
from bot.demo.morning import the_morning
from bot.demo.talk import counts, deliver, say, show, show_outgoing, tap, telegram_says
from bot.demo.talk import text_vandra as text
from bot.demo.world import Demo
from models.tables import Shift
from scheduling.walks import shifts

# Her answers name a place issue (yes, Larmtorget, the third place, a broken light, nothing
# more), and her last answer asks the coordinator to follow the walk up; her note's number is
# masked.
KARIN_ANSWERS = ("2", "3", "2", "1", "1", "2", "1 4", "3", "1 2", "2", "3", "1", "2", "1", "1")
KARIN_NOTE = "Lugnt vid Baronen, en ung tjej verkade illa ute vid stationen. Ring 070-123 45 67."


async def the_weekend(demo: Demo) -> None:
    """From two days before Friday night to the reports after it, on an accelerated clock."""
    async with demo.ctx.store.transaction() as session:
        friday = await shifts.get_shift(session, demo.shift_ids[0])
        saturday = await shifts.get_shift(session, demo.shift_ids[1])
    await thursday_evening(demo, saturday)
    await last_reminder(demo, friday)
    await check_in(demo, friday)
    await check_out(demo, friday)
    await reports(demo, friday)
    await the_morning(demo, friday)


async def thursday_evening(demo: Demo, saturday: Shift) -> None:
    say(
        "Thursday evening, 48 h before Saturday: reminders for Friday, calls for walkers for the "
        "understaffed shifts, notices to the lead and the coordinator"
    )
    everyone = [w for w in (*WALKERS, COORDINATOR, LEAD) if w.telegram_id]
    names = {w.telegram_id or 0: w.name for w in everyone}
    names[NEWCOMER_ID] = NEWCOMER
    users = [w.telegram_id or 0 for w in everyone] + [NEWCOMER_ID]
    demo.clock.set(max(demo.clock.now(), saturday.start_at - timedelta(hours=47, minutes=55)))
    before = counts(demo, users)
    sent = await deliver(demo)
    show_outgoing(demo, before[0], before[1], names)
    click.echo(f"  ({sent} messages sent by the dispatcher)")


async def last_reminder(demo: Demo, friday: Shift) -> None:
    say("Friday 19:01, 2 h before the walk: the last reminder")
    demo.clock.set(friday.start_at - timedelta(hours=2) + timedelta(minutes=1))
    users = [w.telegram_id or 0 for w in (*WALKERS, COORDINATOR, LEAD) if w.telegram_id]
    before = counts(demo, [*users, NEWCOMER_ID])
    sent = await deliver(demo)
    click.echo(f"  {sent} reminders sent")
    show_outgoing(demo, before[0], before[1], {WALKERS[0].telegram_id or 0: "Anna"})


async def check_in(demo: Demo, friday: Shift) -> None:
    say("Friday 20:50: the group meets at Kalmar C and checks in")
    demo.clock.set(friday.start_at - timedelta(minutes=10))
    for walker in (WALKERS[0], WALKERS[2]):
        walker_id = walker.telegram_id or 0
        demo.tg.send_text(walker_id, f"/start pass_{friday.id}")
        card = await telegram_says(demo, walker_id, f"Pass {friday.id}")
        await tap(demo, walker_id, card, "Checka in")
        checked_in = await telegram_says(demo, walker_id, "Incheckad")
        show(walker.name, "Telegram", checked_in.text or "")
    karin = WALKERS[3].phone or ""
    show(karin, "SMS", (await text(demo, karin, f"IN {friday.id}"))[0])


async def check_out(demo: Demo, friday: Shift) -> None:
    say("01:05: they check out; 15 minutes later everyone is asked for a short report")
    demo.clock.set(friday.end_at + timedelta(minutes=5))
    for walker in (WALKERS[0], WALKERS[2]):
        walker_id = walker.telegram_id or 0
        demo.tg.send_text(walker_id, f"/start pass_{friday.id}")
        card = await telegram_says(demo, walker_id, f"Pass {friday.id}")
        await tap(demo, walker_id, card, "Checka ut")
        await telegram_says(demo, walker_id, "Utcheckad")
    await text(demo, WALKERS[3].phone or "", f"UT {friday.id}")


async def reports(demo: Demo, friday: Shift) -> None:
    demo.clock.set(friday.end_at + timedelta(minutes=16))
    sent = await deliver(demo)
    click.echo(f"  {sent} report prompts sent")
    anna = WALKERS[0].telegram_id or 0
    await tap(demo, anna, await telegram_says(demo, anna, "rapporten"), "Rapportera")
    intro = await telegram_says(demo, anna, "Rapport för pass")
    await tap(demo, anna, intro, "Inget särskilt hände")
    show("Anna", "Telegram", (await telegram_says(demo, anna, "Tack")).text or "")
    karin = WALKERS[3].phone or ""
    await text(demo, karin, f"RAPPORT {friday.id}")
    for answer in KARIN_ANSWERS:
        await text(demo, karin, answer)
    show(karin, "SMS", (await text(demo, karin, KARIN_NOTE))[0])
    for line in (await text(demo, karin, "MINA"))[:1]:
        show(karin, "SMS", line)
