"""How the demo talks: what it prints, what the volunteers send, and vandra's ticks."""

from __future__ import annotations

import asyncio
import html
import re

import click

from bot.demo.cast import PUBLIC_URL
from bot.demo.world import Demo
from fakes.telegram_server import SentMessage
from fakes.twilio_server import TEST_AUTH_TOKEN, signed_inbound_form


def say(heading: str) -> None:
    click.echo("")
    click.secho(f"== {heading}", bold=True)


def show(who: str, channel: str, text: str) -> None:
    first = text.strip().splitlines()[0] if text.strip() else ""
    click.echo(f"  [{channel} -> {who}] {first[:110]}")


async def telegram_says(demo: Demo, user: int, words: str) -> SentMessage:
    """The next new (or newly edited) message to a Telegram user containing ``words``
    (waiting up to 10 s of real time)."""
    deadline = demo.clock.now()  # only for the error text
    for _ in range(500):
        for message in demo.tg.messages_to(user):
            key = (user, message.message_id, message.edit_count)
            if key not in demo.seen and words in (message.text or ""):
                demo.seen.add(key)
                return message
        await asyncio.sleep(0.02)
    raise RuntimeError(f"demo: no message with {words!r} to {user} (at {deadline})")


async def tap(demo: Demo, user: int, message: SentMessage, label: str) -> None:
    demo.tg.press_button(user, message.message_id, message.callback_data_for(label))


async def text_vandra(demo: Demo, phone: str, body: str) -> list[str]:
    """An SMS from ``phone`` to vandra, through Twilio's signed webhook; vandra's replies."""
    headers, form = signed_inbound_form(TEST_AUTH_TOKEN, f"{PUBLIC_URL}/sms/inbound", phone, body)
    response = await demo.sms.post("/sms/inbound", data=form, headers=headers)
    return [html.unescape(m) for m in re.findall(r"<Message>(.*?)</Message>", response.text, re.S)]


async def deliver(demo: Demo) -> int:
    """One tick of vandra's ticker (the steps `vandra run` ticks: offers passed on, retention,
    what is due queued), then the dispatcher sends until nothing is left."""
    ticker = demo.app.ticker
    await ticker.tick()
    if not ticker.last_tick_ok:
        raise RuntimeError("demo: a tick step failed (see the log above)")
    sent = 0
    while True:
        report = await demo.app.dispatcher.dispatch_once()
        sent += report.sent
        if report.claimed == 0:
            return sent


def show_outgoing(
    demo: Demo, since_sms: int, since_tg: dict[int, int], names: dict[int, str]
) -> None:
    for user, name in names.items():
        for message in demo.tg.messages_to(user)[since_tg.get(user, 0) :]:
            show(name, "Telegram", message.text or "")
    for sms in demo.twilio.sent[since_sms:]:
        show(sms.to, "SMS", sms.body)


def counts(demo: Demo, users: list[int]) -> tuple[int, dict[int, int]]:
    return len(demo.twilio.sent), {u: len(demo.tg.messages_to(u)) for u in users}
