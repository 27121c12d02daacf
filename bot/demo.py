"""``vandra demo``: the whole mission offline, in under a minute, on a fresh example database.

A Kalmar weekend is seeded (IFK Kalmar and a private initiative, centre areas, next weekend's
Friday and Saturday night shifts). Volunteers use Telegram (the real python-telegram-bot client
against a local stand-in for the Bot API) and SMS (Twilio-signed webhook requests in, the real
twilio client out to a local stand-in). On an accelerated clock: sign-ups, a waitlist and its
promotion, a staffing alert, reminders, check-in and check-out, reports. It ends with the
coordinator's statistics, an XLSX export and a dashboard link.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path

import click
import httpx
from starlette.applications import Starlette

from bot.channels.sms_sender import SmsSender
from bot.channels.sms_webhook import sms_routes
from bot.channels.telegram import TelegramChannel, TelegramSender
from bot.channels.twilio_client import TwilioSender
from bot.dialogue.engine import Dialogue
from bot.i18n import t
from bot.notifications import NotificationRenderer
from bot.presenters import SHIFT_HEADERS, shift_rows, table
from evaluation import exports
from evaluation import statistics as stats
from fakes.telegram_server import FakeTelegramServer, SentMessage
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilioServer,
    signed_inbound_form,
)
from models.db import Store, upgrade
from models.tables import Role
from scheduling.common.clock import ManualClock, SystemClock
from scheduling.common.config import Settings
from scheduling.common.context import Context
from scheduling.links.logins import issue_dashboard_link
from scheduling.messages.content import Sender
from scheduling.messages.due import compute_due
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import shifts
from scheduling.walks.signups import expire_offers
from scheduling.workers.dispatcher import Dispatcher
from scheduling.workers.limits import ChannelLimits

ORGANISATIONS = ["IFK Kalmar", "Trygga vuxna Kalmar"]  # a club and a private initiative
AREAS = [
    ("Kalmar C & Baronen", "Kalmar C, stora entrén mot Baronen"),
    ("Kvarnholmen", "Stortorget, vid domkyrkans trappa"),
]
PUBLIC_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Walker:
    name: str
    org: int  # index into ORGANISATIONS
    trained: bool = False
    telegram_id: int | None = None
    phone: str | None = None


WALKERS = [
    Walker("Anna Lindqvist", 0, True, telegram_id=71001),
    Walker("Erik Johansson", 0, telegram_id=71002),
    Walker("Mohammed Ali", 0, True, telegram_id=71003),
    Walker("Karin Berg", 0, phone="+46701234501"),
    Walker("Lena Holm", 1, True, telegram_id=71005),
    Walker("Per Svensson", 1, phone="+46701234502"),
]
COORDINATOR = Walker("Maria Kommunsson", 0, True, telegram_id=79001)
LEAD = Walker("Johan Ek (gruppledare)", 0, True, telegram_id=79002)
NEWCOMER_ID, NEWCOMER = 71009, "Sara"


@dataclass
class Demo:
    ctx: Context
    clock: ManualClock
    tg: FakeTelegramServer
    twilio: FakeTwilioServer
    sms: httpx.AsyncClient
    dispatcher: Dispatcher
    people: dict[str, int] = field(default_factory=dict)
    shift_ids: list[int] = field(default_factory=list)
    database: Path = Path("data/demo.db")
    seen: set[tuple[int, int, int]] = field(default_factory=set)


def say(heading: str) -> None:
    click.echo("")
    click.secho(f"== {heading}", bold=True)


def show(who: str, channel: str, text: str) -> None:
    first = text.strip().splitlines()[0] if text.strip() else ""
    click.echo(f"  [{channel} -> {who}] {first[:110]}")


def next_friday(today: date) -> date:
    """The coming Friday (a week on, when today is Friday or the weekend has begun)."""
    days = (4 - today.weekday()) % 7
    return today + timedelta(days=days or 7)


def write_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def fresh_database(database: Path) -> None:
    """Remove an earlier demo database (and its WAL files); make its folder."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)


def demo_settings(
    settings: Settings, database: Path, telegram_url: str, twilio_url: str
) -> Settings:
    data = settings.model_dump()
    data["database"] = {**data["database"], "url": f"sqlite:///{database}"}
    data["http"] = {**data["http"], "public_url": PUBLIC_URL}
    data["telegram"] = {
        **data["telegram"],
        "token": FakeTelegramServer().token,
        "api_base_url": telegram_url,
        "mode": "polling",
    }
    data["sms"] = {
        **data["sms"],
        "account_sid": TEST_ACCOUNT_SID,
        "auth_token": TEST_AUTH_TOKEN,
        "from_number": TEST_FROM_NUMBER,
        "api_base_url": twilio_url,
    }
    return Settings.model_validate(data)


# --- talking ------------------------------------------------------------------------------


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
        await _pause()
    raise RuntimeError(f"demo: no message with {words!r} to {user} (at {deadline})")


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.02)


async def tap(demo: Demo, user: int, message: SentMessage, label: str) -> None:
    demo.tg.press_button(user, message.message_id, message.callback_data_for(label))


async def text_vandra(demo: Demo, phone: str, body: str) -> list[str]:
    """An SMS from ``phone`` to vandra, through Twilio's signed webhook; vandra's replies."""
    headers, form = signed_inbound_form(TEST_AUTH_TOKEN, f"{PUBLIC_URL}/sms/inbound", phone, body)
    response = await demo.sms.post("/sms/inbound", data=form, headers=headers)
    return [html.unescape(m) for m in re.findall(r"<Message>(.*?)</Message>", response.text, re.S)]


async def deliver(demo: Demo) -> int:
    """What is due now goes into the outbox, and the dispatcher sends it."""
    await expire_offers(demo.ctx)
    await compute_due(demo.ctx)
    sent = 0
    while True:
        report = await demo.dispatcher.dispatch_once()
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


# --- the weekend --------------------------------------------------------------------------


async def seed(ctx: Context, clock: ManualClock) -> tuple[dict[str, int], list[int]]:
    operator = Actor.operator()
    orgs = [(await directory.add_organisation(ctx, operator, n)).id or 0 for n in ORGANISATIONS]
    areas = [(await directory.add_area(ctx, operator, n, p)).id or 0 for n, p in AREAS]
    people: dict[str, int] = {}
    for walker, role in [(COORDINATOR, Role.COORDINATOR), (LEAD, Role.LEAD)] + [
        (w, Role.VOLUNTEER) for w in WALKERS
    ]:
        person = await directory.add_person(
            ctx,
            operator,
            name=walker.name,
            phone=walker.phone,
            telegram_id=walker.telegram_id,
            organisation=orgs[walker.org],
            role=role,
            trained=walker.trained,
        )
        await directory.record_consent(ctx, person.id or 0)  # as if they had said yes in the bot
        people[walker.name] = person.id or 0
    friday = next_friday(clock.now().astimezone(ctx.zone).date())
    shift_ids: list[int] = []
    for org, area in zip(orgs, areas, strict=True):
        spec = shifts.ShiftSpec(
            organisation=org,
            area=area,
            start=datetime.combine(friday, time(21, 0)),
            end=datetime.combine(friday + timedelta(days=1), time(1, 0)),
            min_walkers=3,
            max_walkers=4,
        )
        created = await shifts.create_shifts(
            ctx, operator, spec, repeat={4, 5}, until=friday + timedelta(days=1)
        )
        shift_ids += [s.id or 0 for s in created]
    return people, shift_ids


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
    card = await telegram_says(demo, NEWCOMER_ID, f"Pass {friday}")
    await tap(demo, NEWCOMER_ID, card, "reservlistan")
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


async def the_weekend(demo: Demo) -> None:
    """From two days before Friday night to the reports after it, on an accelerated clock."""
    friday_ifk, saturday_ifk = demo.shift_ids[0], demo.shift_ids[1]
    users = [w.telegram_id for w in (*WALKERS, COORDINATOR, LEAD) if w.telegram_id] + [NEWCOMER_ID]
    names = {w.telegram_id: w.name for w in (*WALKERS, COORDINATOR, LEAD) if w.telegram_id}
    names[NEWCOMER_ID] = NEWCOMER
    async with demo.ctx.store.transaction() as session:
        friday = await shifts.get_shift(session, friday_ifk)
        saturday = await shifts.get_shift(session, saturday_ifk)

    say(
        "Thursday evening, 48 h before Saturday: reminders for Friday, calls for walkers for the "
        "understaffed shifts, notices to the lead and the coordinator"
    )
    demo.clock.set(max(demo.clock.now(), saturday.start_at - timedelta(hours=47, minutes=55)))
    before = counts(demo, users)
    sent = await deliver(demo)
    show_outgoing(demo, before[0], before[1], names)
    click.echo(f"  ({sent} messages sent by the dispatcher)")

    say("Friday 19:01, 2 h before the walk: the last reminder")
    demo.clock.set(friday.start_at - timedelta(hours=2) + timedelta(minutes=1))
    before = counts(demo, users)
    sent = await deliver(demo)
    click.echo(f"  {sent} reminders sent")
    show_outgoing(demo, before[0], before[1], {WALKERS[0].telegram_id or 0: "Anna"})

    say("Friday 20:50: the group meets at Kalmar C and checks in")
    demo.clock.set(friday.start_at - timedelta(minutes=10))
    for walker in (WALKERS[0], WALKERS[2]):
        walker_id = walker.telegram_id or 0
        demo.tg.send_text(walker_id, f"/start pass_{friday_ifk}")
        await tap(
            demo, walker_id, await telegram_says(demo, walker_id, f"Pass {friday_ifk}"), "Checka in"
        )
        show(
            walker.name, "Telegram", (await telegram_says(demo, walker_id, "Incheckad")).text or ""
        )
    show(
        WALKERS[3].phone or "",
        "SMS",
        (await text_vandra(demo, WALKERS[3].phone or "", f"IN {friday_ifk}"))[0],
    )

    say("01:05: they check out; 15 minutes later everyone is asked for a short report")
    demo.clock.set(friday.end_at + timedelta(minutes=5))
    for walker in (WALKERS[0], WALKERS[2]):
        walker_id = walker.telegram_id or 0
        demo.tg.send_text(walker_id, f"/start pass_{friday_ifk}")
        await tap(
            demo, walker_id, await telegram_says(demo, walker_id, f"Pass {friday_ifk}"), "Checka ut"
        )
        await telegram_says(demo, walker_id, "Utcheckad")
    await text_vandra(demo, WALKERS[3].phone or "", f"UT {friday_ifk}")
    demo.clock.set(friday.end_at + timedelta(minutes=16))
    sent = await deliver(demo)
    click.echo(f"  {sent} report prompts sent")
    anna = WALKERS[0].telegram_id or 0
    prompt = await telegram_says(demo, anna, "rapporten")
    await tap(demo, anna, prompt, "Rapportera")
    intro = await telegram_says(demo, anna, "Rapport för pass")
    await tap(demo, anna, intro, "Inget särskilt hände")
    show("Anna", "Telegram", (await telegram_says(demo, anna, "Tack")).text or "")
    karin = WALKERS[3].phone or ""
    await text_vandra(demo, karin, f"RAPPORT {friday_ifk}")
    for answer in ("2", "3", "2", "1", "1", "2", "1 4", "3", "1 2", "1", "1", "2"):
        await text_vandra(demo, karin, answer)
    show(
        karin,
        "SMS",
        (
            await text_vandra(
                demo,
                karin,
                "Lugnt vid Baronen, några tonåringar vid stationen. Ring 070-123 45 67.",
            )
        )[0],
    )
    for line in (await text_vandra(demo, karin, "MINA"))[:1]:
        show(karin, "SMS", line)


async def the_coordinator(demo: Demo, out_dir: Path) -> None:
    say("Monday: the coordinator's figures for the weekend")
    coordinator = Actor.of(await _person(demo, COORDINATOR.name), "cli")
    local_day = demo.clock.now().astimezone(demo.ctx.zone).date()
    first, last = local_day - timedelta(days=7), local_day
    report = await stats.statistics(demo.ctx, coordinator, first, last)
    overall = report.overall
    click.echo(
        f"  shifts planned {overall.planned}, held {overall.held}, walker-hours "
        f"{overall.walker_hours:.1f}, walkers {overall.unique_walkers}, reports "
        f"{overall.reports}, young people met (estimate) {overall.youth_contacts}"
    )
    for name, figures in report.by_area:
        click.echo(f"  {name}: held {figures.held}, walker-hours {figures.walker_hours:.1f}")
    texts = partial(t, "sv")
    tables = await exports.build_export(
        demo.ctx, coordinator, exports.ExportRequest("reports", first, last), texts
    )
    path = out_dir / exports.filename("reports", first, last, "xlsx")
    write_file(path, exports.render(tables, texts, "xlsx"))
    click.echo(f"  XLSX export written: {path}")
    real_time = Context(store=demo.ctx.store, settings=demo.ctx.settings, clock=SystemClock())
    link = await issue_dashboard_link(real_time, coordinator)
    click.echo(f"  the coordinator's dashboard link (one use, 15 minutes): {link}")
    click.echo(
        f"  to open it: VANDRA_DATABASE_URL=sqlite:///{demo.database} "
        ".venv/bin/vandra run   (then open the link)"
    )


async def _person(demo: Demo, name: str):  # type: ignore[no-untyped-def]
    async with demo.ctx.store.transaction() as session:
        return await directory.get_person(session, demo.people[name])


@asynccontextmanager
async def running(settings: Settings, database: Path, now: datetime) -> AsyncIterator[Demo]:
    """The example world with its Telegram and SMS stand-ins, bot and dispatcher running."""
    async with FakeTelegramServer() as tg, FakeTwilioServer() as twilio:
        for walker in (*WALKERS, COORDINATOR, LEAD):
            if walker.telegram_id:
                tg.add_user(walker.telegram_id, walker.name.split()[0])
        tg.add_user(NEWCOMER_ID, NEWCOMER)
        clock = ManualClock(now)
        config = demo_settings(settings, database, tg.base_url, twilio.base_url)
        store = Store.open(config.database.url)
        await upgrade(store.engine)
        ctx = Context(store=store, settings=config, clock=clock)
        dialogue = Dialogue(ctx)
        telegram = TelegramChannel(ctx, dialogue)
        twilio_client = TwilioSender.from_settings(config.sms, PUBLIC_URL)
        senders: dict[str, Sender] = {
            "telegram": TelegramSender(telegram.application),
            "sms": SmsSender(twilio_client, clock=clock.now),
        }
        limits = {"telegram": ChannelLimits(200), "sms": ChannelLimits(200)}
        dispatcher = Dispatcher(ctx, senders, NotificationRenderer(), limits=limits)
        app = Starlette(routes=sms_routes(ctx, dialogue))
        sms = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL)
        await telegram.start()
        try:
            people, shift_ids = await seed(ctx, clock)
            yield Demo(ctx, clock, tg, twilio, sms, dispatcher, people, shift_ids, database)
        finally:
            await sms.aclose()
            await telegram.stop()
            await twilio_client.close()
            await store.close()


async def run_demo(
    settings: Settings,
    database: Path,
    now: datetime,
    out_dir: Path = Path("demo-out"),
    progress: Callable[[str], None] = click.echo,
) -> None:
    """Seed a fresh example database and play the weekend on an accelerated clock."""
    fresh_database(database)
    progress("vandra demo: a Kalmar weekend of vuxenvandringar, offline")
    progress(f"example database: {database}")
    async with running(settings, database, now) as demo:
        say("Next weekend's shifts, as the coordinator sees them")
        await show_shifts(demo)
        await signups_on_telegram(demo, demo.shift_ids[0])
        await signups_by_sms(demo, demo.shift_ids[0])
        await newcomer_on_telegram(demo, demo.shift_ids[0])
        await promotion(demo, demo.shift_ids[0])
        await show_shifts(demo)
        await the_weekend(demo)
        await the_coordinator(demo, out_dir)
        say("Done")
        click.echo("Try the bot yourself, on the demo database, in the terminal:")
        click.echo(
            f"  VANDRA_DATABASE_URL=sqlite:///{database} .venv/bin/vandra chat "
            f'--as "Anna Lindqvist"'
        )
