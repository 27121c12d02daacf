"""Before the weekend: the shifts, sign-ups in Telegram and by SMS, a newcomer, a promotion."""

from __future__ import annotations

import click

from bot.demo.cast import LEAD, NEWCOMER, NEWCOMER_ID, WALKERS
from bot.demo.talk import deliver, say, show, tap, telegram_says, text_vandra
from bot.demo.world import Demo
from bot.presenters import SHIFT_HEADERS, shift_rows, table
from scheduling.walks import shifts


async def show_shifts(demo: Demo) -> None:
    views = await shifts.list_shifts(demo.ctx)
    for line in table(SHIFT_HEADERS, shift_rows(views, demo.ctx.zone, demo.ctx.now())).split("\n"):
        click.echo(f"  {line}")


async def signups_on_telegram(demo: Demo, friday: int) -> None:
    say("Volunteers sign up in Telegram through a deep link (t.me/<bot>?start=pass_N)")
    for walker in WALKERS[:3]:
        assert walker.telegram_id is not None
        demo.tg.send_text(walker.telegram_id, f"/start pass_{friday}")
        card = await telegram_says(demo, walker.telegram_id, f"Pass {friday}")
        await tap(demo, walker.telegram_id, card, "Anmäl mig")
        show(
            walker.name,
            "Telegram",
            (await telegram_says(demo, walker.telegram_id, "anmäld")).text or "",
        )


async def newcomer_on_telegram(demo: Demo, friday: int) -> None:
    say(f"A newcomer, {NEWCOMER}, opens the same link: registration first, then the shift")
    demo.tg.send_text(NEWCOMER_ID, f"/start pass_{friday}")
    await tap(
        demo,
        NEWCOMER_ID,
        await telegram_says(demo, NEWCOMER_ID, "Vad heter du"),
        f"Använd {NEWCOMER}",
    )
    await tap(demo, NEWCOMER_ID, await telegram_says(demo, NEWCOMER_ID, "förening"), "IFK Kalmar")
    await tap(demo, NEWCOMER_ID, await telegram_says(demo, NEWCOMER_ID, "minst 18"), "Ja")
    await tap(
        demo, NEWCOMER_ID, await telegram_says(demo, NEWCOMER_ID, "Godkänner du"), "Jag godkänner"
    )
    show(NEWCOMER, "Telegram", (await telegram_says(demo, NEWCOMER_ID, "registrerad")).text or "")
    show(NEWCOMER, "Telegram", (await telegram_says(demo, NEWCOMER_ID, "godkänner")).text or "")
    await approval_by_the_lead(demo)


async def approval_by_the_lead(demo: Demo) -> None:
    say(f"The lead approves {NEWCOMER} with one tap; the shift she chose is booked for her")
    await deliver(demo)
    lead = LEAD.telegram_id or 0
    notice = await telegram_says(demo, lead, NEWCOMER)
    show("Johan", "Telegram", notice.text or "")
    await tap(demo, lead, notice, "Godkänn")
    show("Johan", "Telegram", (await telegram_says(demo, lead, "är godkänd")).text or "")
    await deliver(demo)
    show(NEWCOMER, "Telegram", (await telegram_says(demo, NEWCOMER_ID, "reservlista")).text or "")


async def signups_by_sms(demo: Demo, friday: int) -> None:
    say("Karin uses plain SMS: PASS, then JA <id>")
    karin = WALKERS[3].phone or ""
    listing = await text_vandra(demo, karin, "PASS")
    for line in listing[0].splitlines()[:3]:
        click.echo(f"  [SMS -> {karin}] {line}")
    show(karin, "SMS", (await text_vandra(demo, karin, f"JA {friday}"))[0])


async def promotion(demo: Demo, friday: int) -> None:
    say("Erik cancels; the first on the waitlist is offered the seat and confirms with one tap")
    erik = WALKERS[1].telegram_id or 0
    demo.tg.send_text(erik, f"/start pass_{friday}")
    await tap(demo, erik, await telegram_says(demo, erik, f"Pass {friday}"), "Avboka")
    show("Erik", "Telegram", (await telegram_says(demo, erik, "avbokad")).text or "")
    await deliver(demo)
    offer = await telegram_says(demo, NEWCOMER_ID, "ledig åt dig")
    show(NEWCOMER, "Telegram", offer.text or "")
    await tap(demo, NEWCOMER_ID, offer, "Bekräfta")
    show(NEWCOMER, "Telegram", (await telegram_says(demo, NEWCOMER_ID, "anmäld")).text or "")
