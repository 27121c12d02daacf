"""Access control as a matrix: every lead and coordinator action, through every channel, by
everyone who may not do it — a volunteer, a lead of another organisation, a lead without an
organisation, a person the bot does not know — is refused, audited and changes nothing; and
the right lead or coordinator succeeds (so the matrix can fail).

One seeded world per database (SQLite and the real PostgreSQL) serves the whole module: a
refusal changes nothing, so the cases cannot disturb each other, and each positive control
works on targets of its own. Telegram goes through the real python-telegram-bot application
against the fake Bot API, SMS through the signed Twilio webhook, the console through its own
line parser; forged buttons are handed to the dialogue as any channel would.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete, func
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, col, select
from starlette.applications import Starlette

from bot.channels.console import to_inbound
from bot.channels.sms_webhook import sms_routes
from bot.channels.telegram import TelegramChannel
from bot.dialogue.engine import Dialogue
from bot.dialogue.turn import Inbound
from bot.i18n import t
from evaluation import exports, overview, payments, places
from evaluation import statistics as stats
from fakes.telegram_server import FakeTelegramServer
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    signed_inbound_form,
)
from models.db import Store, upgrade
from models.tables import (
    AuditEntry,
    Conversation,
    Report,
    Role,
    Shift,
    ShiftStatus,
    Signup,
    SignupStatus,
)
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import NotFound, PermissionDenied
from scheduling.links import calendar
from scheduling.links.logins import issue_dashboard_link
from scheduling.messages import broadcast
from scheduling.people import directory, privacy
from scheduling.people import erasure as people
from scheduling.people.access import Actor
from scheduling.people.area_edit import update_area
from scheduling.walks import reports, shifts, signups
from tests.conftest import T0, database_for, make_settings
from tests.helpers import OPERATOR, add_shift, with_settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

PUBLIC = "https://vandra.example.se"
AREA_A, AREA_B = "Kvarnholmen", "Baronen"
OUTSIDERS = ("volunteer", "lead_other", "lead_noorg", "unknown")
# Known people acting; "unknown" is anyone the bot has never seen.
PEOPLE = {
    #  persona:     (name,              role,             organisation, telegram id, phone)
    "volunteer": ("Vera Volontär", Role.VOLUNTEER, "A", 2001, "+46701110001"),
    "lead_other": ("Leo Ledare", Role.LEAD, "B", 2002, "+46701110002"),
    "lead_noorg": ("Lina Lös", Role.LEAD, None, 2003, "+46701110003"),
    "lead_a": ("Ada Ledare", Role.LEAD, "A", 2004, "+46701110004"),
    "coordinator": ("Maja Samordnare", Role.COORDINATOR, None, 2005, "+46701110005"),
    "target": ("Tor Target", Role.VOLUNTEER, "A", 2006, "+46701110006"),
}
_fresh = itertools.count(1)


@dataclass
class World:
    ctx: Context
    dialogue: Dialogue
    tg: FakeTelegramServer
    sms: httpx.AsyncClient
    org_a: int
    org_b: int
    area_a: int
    area_b: int
    shift_a: int  # a planned shift of organisation A, three days ahead
    shift_b: int  # the same for organisation B
    past_a: int  # an org-A shift that has been walked, the volunteer confirmed on it
    report_a: int  # the volunteer's submitted report of that walk
    ids: dict[str, int] = field(default_factory=dict)  # persona -> person id

    @property
    def clock(self) -> ManualClock:
        assert isinstance(self.ctx.clock, ManualClock)
        return self.ctx.clock

    def actor(self, persona: str, channel: str = "cli") -> Actor:
        if persona == "unknown":
            return Actor(person_id=None, role=Role.VOLUNTEER, organisation_id=None,
                         label="unknown", channel=channel)
        _name, role, org, _tg, _phone = PEOPLE[persona]
        organisation = {"A": self.org_a, "B": self.org_b, None: None}[org]
        return Actor(person_id=self.ids[persona], role=role, organisation_id=organisation,
                     label=f"person:{self.ids[persona]}", channel=channel)


# --- the world ----------------------------------------------------------------------------


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One database for the module: a SQLite file, or a PostgreSQL schema of its own."""
    with database_for(request.param, tmp_path_factory.mktemp("access")) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(world_url: str) -> AsyncIterator[World]:
    """Two organisations with a shift each, a walked shift with a report, the cast of
    PEOPLE, and the three channels running on one dialogue."""
    store = Store.open(world_url)
    await upgrade(store.engine)
    base = Context(store=store, settings=make_settings(world_url), clock=ManualClock(T0))
    async with FakeTelegramServer() as tg:
        ctx = with_settings(
            base,
            http={"public_url": PUBLIC},
            telegram={"token": tg.token, "api_base_url": tg.base_url},
            sms={"account_sid": TEST_ACCOUNT_SID, "auth_token": TEST_AUTH_TOKEN,
                 "from_number": TEST_FROM_NUMBER},
        )
        w = await _seed(ctx, tg)
        channel = TelegramChannel(ctx, w.dialogue)
        await channel.start()
        try:
            async with w.sms:
                yield w
        finally:
            await channel.stop()
            await store.close()
        tg.assert_no_violations()


async def _seed(ctx: Context, tg: FakeTelegramServer) -> World:
    org_a = (await directory.add_organisation(ctx, OPERATOR, "IFK Kalmar")).id or 0
    org_b = (await directory.add_organisation(ctx, OPERATOR, "Nattugglorna")).id or 0
    area_a = (await directory.add_area(ctx, OPERATOR, AREA_A)).id or 0
    area_b = (await directory.add_area(ctx, OPERATOR, AREA_B)).id or 0
    ids = {}
    for persona, (name, role, org, telegram_id, phone) in PEOPLE.items():
        person = await directory.add_person(
            ctx, OPERATOR, name=name, role=role, telegram_id=telegram_id, phone=phone,
            organisation={"A": org_a, "B": org_b, None: None}[org])
        await directory.record_consent(ctx, person.id or 0)
        ids[persona] = person.id or 0
        tg.add_user(telegram_id, name.split()[0])
    shift_a = (await add_shift(ctx, org_a, area_a, start_in=timedelta(days=3))).id or 0
    shift_b = (await add_shift(ctx, org_b, area_b, start_in=timedelta(days=3, hours=1))).id or 0
    past = await add_shift(ctx, org_a, area_a, start_in=timedelta(hours=1), hours=3)
    await signups.sign_up(ctx, ids["volunteer"], past.id or 0)
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(hours=5))  # the walk is over; shift_a and shift_b still ahead
    report = await reports.open_report(ctx, ids["volunteer"], past.id or 0)
    await reports.submit(ctx, report.id or 0, ids["volunteer"], None, nothing_happened=True)
    app = Starlette(routes=sms_routes(ctx, dialogue := Dialogue(ctx)))
    sms = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC)
    return World(ctx, dialogue, tg, sms, org_a, org_b, area_a, area_b, shift_a, shift_b,
                 past.id or 0, report.id or 0, ids)


# --- what "nothing changed" and "audited" mean ----------------------------------------------

# The dialogue keeps its own state (conversation), remembers handled webhooks
# (inbound_receipt) and notes when a person was last active: none of that is the action's.
NOT_STATE = {"audit_entry", "conversation", "inbound_receipt"}


async def snapshot(ctx: Context) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that holds the town's data, in primary-key order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with ctx.store.sessions() as session:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in NOT_STATE:
                continue
            columns = [c for c in table.columns if (table.name, c.name) != ("person",
                                                                             "last_active_at")]
            statement = sa_select(*columns).order_by(*table.primary_key.columns)
            rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
            tables[table.name] = [tuple(row) for row in rows]
    return tables


async def last_audit_id(ctx: Context) -> int:
    async with ctx.store.sessions() as session:
        return int((await session.exec(sa_select(func.coalesce(func.max(AuditEntry.id), 0))))
                   .one()[0])


async def audit_since(ctx: Context, after: int) -> list[AuditEntry]:
    async with ctx.store.sessions() as session:
        return list((await session.exec(
            select(AuditEntry).where(col(AuditEntry.id) > after).order_by(col(AuditEntry.id))
        )).all())


def assert_refusal_audited(entries: list[AuditEntry], actor_id: int | None, actions: set[str],
                           channel: str) -> None:
    """Exactly one new audit entry: this actor's refused attempt, on this channel."""
    found = [(e.actor_id, e.action, e.outcome, e.details.get("channel")) for e in entries]
    assert len(entries) == 1, found
    entry = entries[0]
    assert (entry.actor_id, entry.outcome, entry.details.get("channel")) == (
        actor_id, "refused", channel), found
    assert entry.action in actions, found


REFUSED = ("behörighet", "permission")
JOIN_KEYS = ("registration.first", "registration.ask_name", "registration.ask_name_sms",
             "registration.sms_closed")


def is_join_text(text: str) -> bool:
    """Registration starts (or, by SMS without open registration, says whom to ask)."""
    return any(t(lang, key).split("{")[0][:40] in text
               for key in JOIN_KEYS for lang in ("sv", "en"))


# --- the channels -------------------------------------------------------------------------

SWEDISH = {"newshift": "nytt_pass", "staffing": "bemanning", "broadcast": "utskick",
           "stats": "statistik", "export": "export", "dashboard": "dashboard"}


@dataclass(frozen=True)
class Who:
    """Who talks: a known persona, or someone new (a fresh Telegram user, number or name)."""

    name: str
    telegram_id: int
    phone: str


async def who(w: World, persona: str) -> Who:
    """The persona, out of any flow a previous case left them in (e.g. a new shift's)."""
    if persona == "unknown":
        n = next(_fresh)
        w.tg.add_user(3000 + n, f"Ny{n}")
        return Who(f"Okänd Person {n}", 3000 + n, f"+4670222{n:04d}")
    async with w.ctx.store.transaction() as session:
        await session.exec(delete(Conversation).where(  # type: ignore[call-overload]
            col(Conversation.person_id) == w.ids[persona]))
    name, _role, _org, telegram_id, phone = PEOPLE[persona]
    return Who(name, telegram_id, phone)


async def via_telegram(w: World, person: Who, command: str | None, action: str | None) -> str:
    """Send a command, or press a forged button, in the person's private chat; the reply."""
    tg = w.tg
    if action is not None and not tg.messages_to(person.telegram_id):
        tg.send_text(person.telegram_id, "/sprak")  # one bot message to hang the button on
        await tg.wait_until(lambda: bool(tg.messages_to(person.telegram_id)))
    before = {(m.message_id, m.edit_count) for m in tg.messages_to(person.telegram_id)}

    def new() -> list[str]:
        return [m.text or m.caption or "" for m in tg.messages_to(person.telegram_id)
                if (m.message_id, m.edit_count) not in before]

    if command is not None:
        tg.send_text(person.telegram_id, f"/{SWEDISH.get(command, command)}")
    else:
        assert action is not None
        last = tg.last_message(person.telegram_id)
        assert last is not None
        tg.press_button(person.telegram_id, last.message_id, action)
    await tg.wait_until(lambda: bool(new()), timeout=10)
    await tg.wait_until(lambda: not tg.pending_updates(), timeout=10)
    return "\n".join(new())


async def via_sms(w: World, person: Who, command: str | None, action: str | None) -> str:
    """Text the Swedish command word through the signed webhook; the TwiML answer."""
    assert command is not None and action is None  # SMS cannot carry a button's payload
    headers, form = signed_inbound_form(TEST_AUTH_TOKEN, f"{PUBLIC}/sms/inbound", person.phone,
                                        SWEDISH.get(command, command))
    response = await w.sms.post("/sms/inbound", data=form, headers=headers)
    assert response.status_code == 200, response.text
    return "\n".join(html.unescape(m) for m in
                     re.findall(r"<Message>(.*?)</Message>", response.text, re.S))


async def via_console(w: World, person: Who, command: str | None, action: str | None) -> str:
    """A typed ``/command`` as ``vandra chat --as NAME`` reads it; a button as the dialogue
    receives it from any channel."""
    address = f"console:{person.name.casefold()}"
    if command is not None:
        inbound = to_inbound(f"/{SWEDISH.get(command, command)}", address, None, person.name)
    else:
        inbound = Inbound(channel="console", address=address, display_name=person.name,
                          action=action)
    return "\n".join(r.text for r in await w.dialogue.handle(inbound))


CHANNELS: dict[str, Callable[[World, Who, str | None, str | None], Awaitable[str]]] = {
    "telegram": via_telegram, "sms": via_sms, "console": via_console,
}


# --- the dialogue's lead and coordinator actions --------------------------------------------


@dataclass(frozen=True)
class ChatCase:
    """A command (every channel) or a button payload (Telegram and the console)."""

    name: str
    command: str | None = None
    action: str | None = None  # with {shift_a}, {org_a}: filled in from the world
    audit: frozenset[str] = frozenset()
    refused: frozenset[str] = frozenset({"volunteer", "lead_other", "lead_noorg"})

    def payload(self, w: World) -> str | None:
        return None if self.action is None else self.action.format(
            shift_a=w.shift_a, org_a=w.org_a, area_a=w.area_a)


OWN_ORG_ONLY = frozenset({"volunteer", "lead_noorg"})  # a lead of B may do it for B
CHAT_CASES = [
    ChatCase("new shift", command="newshift", audit=frozenset({"shifts.add"}),
             refused=OWN_ORG_ONLY),
    ChatCase("staffing", command="staffing", audit=frozenset({"staffing"}), refused=OWN_ORG_ONLY),
    ChatCase("call for walkers", command="broadcast", audit=frozenset({"broadcast"}),
             refused=OWN_ORG_ONLY),
    ChatCase("statistics", command="stats", audit=frozenset({"stats.view"}),
             refused=OWN_ORG_ONLY),
    ChatCase("export", command="export", audit=frozenset({"export"}), refused=OWN_ORG_ONLY),
    ChatCase("dashboard link", command="dashboard", audit=frozenset({"dashboard.link"}),
             refused=OWN_ORG_ONLY),
    ChatCase("open nights", command="nights", audit=frozenset({"nights.list"}),
             refused=OWN_ORG_ONLY),
    ChatCase("walkers' cards", command="walkers", audit=frozenset({"people.list"}),
             refused=OWN_ORG_ONLY),
    ChatCase("ask to cancel A's shift", action="sc:{shift_a}",
             audit=frozenset({"shifts.cancel"})),
    ChatCase("cancel A's shift", action="sc:{shift_a}:yes", audit=frozenset({"shifts.cancel"})),
    ChatCase("choose A's shift to call for", action="bc:shift:{shift_a}",
             audit=frozenset({"broadcast"})),
    ChatCase("call A's walkers", action="bc:org:{shift_a}", audit=frozenset({"broadcast"})),
    ChatCase("call everyone for A's shift", action="bc:all:{shift_a}",
             audit=frozenset({"broadcast", "broadcast.everyone"})),
    ChatCase("pick A in the new-shift flow", action="ns:org:{org_a}",
             audit=frozenset({"shifts.add"}), refused=OWN_ORG_ONLY),
    ChatCase("export reports file", action="ex:reports:0", audit=frozenset({"export.reports"}),
             refused=OWN_ORG_ONLY),
    ChatCase("export payments file", action="ex:payments:1",
             audit=frozenset({"export.payments"}), refused=OWN_ORG_ONLY),
]


def chat_matrix() -> list[Any]:
    cells = []
    for case in CHAT_CASES:
        channels = ("telegram", "sms", "console") if case.command else ("telegram", "console")
        for channel in channels:
            for persona in OUTSIDERS:
                if persona in case.refused or persona == "unknown":
                    cells.append(pytest.param(case, channel, persona,
                                              id=f"{case.name}-{channel}-{persona}"))
    return cells


@pytest.mark.parametrize(("case", "channel", "persona"), chat_matrix())
async def test_chat_action_refused(world: World, case: ChatCase, channel: str,
                                   persona: str) -> None:
    """Refused with "behörighet" (an unknown person is led into registration instead),
    audited as refused on that channel, and nothing in the store changed."""
    person = await who(world, persona)
    before, audit_mark = await snapshot(world.ctx), await last_audit_id(world.ctx)
    reply = await CHANNELS[channel](world, person, case.command, case.payload(world))
    if persona == "unknown":
        assert is_join_text(reply), reply
        assert await audit_since(world.ctx, audit_mark) == []
    else:
        assert any(word in reply for word in REFUSED), reply
        assert_refusal_audited(await audit_since(world.ctx, audit_mark), world.ids[persona],
                               set(case.audit), channel)
    assert await snapshot(world.ctx) == before


@pytest.mark.parametrize("command", ["staffing", "broadcast", "stats"])
@pytest.mark.parametrize("channel", ["telegram", "console"])  # by SMS: refused, see below
async def test_lead_of_another_organisation_sees_only_their_own(
    world: World, channel: str, command: str
) -> None:
    """What a lead may do for their own organisation shows nothing of another's."""
    before = await snapshot(world.ctx)
    reply = await CHANNELS[channel](world, await who(world, "lead_other"), command, None)
    assert AREA_A not in reply and "IFK Kalmar" not in reply, reply
    assert "behörighet" not in reply
    assert await snapshot(world.ctx) == before


@pytest.mark.parametrize("channel", ["telegram", "console"])
@pytest.mark.parametrize("persona", ["lead_a", "coordinator"])
async def test_right_person_sees_staffing(world: World, channel: str, persona: str) -> None:
    """The positive control of the refusals: A's lead and the coordinator see A's shift."""
    reply = await CHANNELS[channel](world, await who(world, persona), "staffing", None)
    assert AREA_A in reply and "behörighet" not in reply, reply


@pytest.mark.parametrize("command", ["newshift", "staffing", "broadcast", "stats", "export",
                                     "dashboard", "nights", "walkers"])
@pytest.mark.parametrize("persona", ["lead_a", "coordinator", "lead_other"])
async def test_no_manager_command_by_sms(world: World, command: str, persona: str) -> None:
    """By SMS (named by a number anyone can forge) even the right lead or the coordinator is
    told that this is done in Telegram or on the dashboard: refused, audited, nothing shown
    and nothing changed."""
    person = await who(world, persona)
    before, audit_mark = await snapshot(world.ctx), await last_audit_id(world.ctx)
    reply = await via_sms(world, person, command, None)
    assert "Telegram" in reply and "behörighet" in reply and AREA_A not in reply, reply
    assert not re.search(r"(^|\s)/[a-z_]+", reply), reply  # no Telegram command in an SMS
    case = next(c for c in CHAT_CASES if c.command == command)
    assert_refusal_audited(await audit_since(world.ctx, audit_mark), world.ids[persona],
                           set(case.audit), "sms")
    assert await snapshot(world.ctx) == before


@pytest.mark.parametrize("channel", ["telegram", "console"])
@pytest.mark.parametrize("persona", ["lead_a", "coordinator"])
async def test_right_person_cancels_and_calls_by_button(world: World, channel: str,
                                                        persona: str) -> None:
    """A's lead (and the coordinator) cancel a shift of A and call A's walkers by button."""
    shift = await add_shift(world.ctx, world.org_a, world.area_a, start_in=timedelta(days=5))
    person = await who(world, persona)
    mark = await last_audit_id(world.ctx)
    call = CHANNELS[channel]
    assert "vandrare" in await call(world, person, None, f"bc:org:{shift.id}")
    assert "behörighet" not in await call(world, person, None, f"sc:{shift.id}")
    assert "behörighet" not in await call(world, person, None, f"sc:{shift.id}:yes")
    async with world.ctx.store.sessions() as session:
        stored = await session.get(Shift, shift.id)
    assert stored is not None and stored.status == ShiftStatus.CANCELLED
    done = [(e.action, e.outcome) for e in await audit_since(world.ctx, mark)]
    assert done == [("broadcast", "ok"), ("shifts.cancel", "ok")]


# --- actions of the core that only the command line (or the dashboard) reaches ---------------


@dataclass(frozen=True)
class CoreCase:
    """One use case called with an actor; ``prepare`` makes its target before the snapshot."""

    name: str
    run: Callable[[World, Actor, int], Awaitable[object]]
    audit: frozenset[str]
    right: str  # who may: lead_a or coordinator
    refused: frozenset[str] = frozenset(OUTSIDERS)
    prepare: Callable[[World], Awaitable[int]] | None = None


async def _fresh_shift(w: World) -> int:
    return (await add_shift(w.ctx, w.org_a, w.area_a, start_in=timedelta(days=6))).id or 0


async def _fresh_area(w: World) -> int:
    return (await directory.add_area(w.ctx, OPERATOR, f"Område {next(_fresh)}")).id or 0


async def _fresh_person(w: World) -> int:
    person = await directory.add_person(w.ctx, OPERATOR, name=f"Ny {next(_fresh)}",
                                        organisation=w.org_a)
    return person.id or 0


async def _fresh_place(w: World) -> int:
    """An open place in A's area, as a report would have made it: its id."""
    from models.place_tables import Place

    seen = w.clock.now()
    async with w.ctx.store.transaction() as session:
        place = Place(area_id=w.area_a, spot=f"Plats {next(_fresh)}", kind="broken_light",
                      open_key=f"x{next(_fresh)}", reports=1, first_seen_at=seen,
                      last_seen_at=seen, created_at=seen)
        session.add(place)
        await session.flush()
        return place.id or 0


async def _fresh_no_show(w: World) -> int:
    """A confirmed walker of the walked shift who never checked in: their person id."""
    person_id = await _fresh_person(w)
    async with w.ctx.store.transaction() as session:
        session.add(Signup(shift_id=w.past_a, person_id=person_id, status=SignupStatus.CONFIRMED,
                           queued_at=T0, confirmed_at=T0))
    return person_id


async def _org_token(w: World) -> int:
    await calendar.feed_url_for_organisation(w.ctx, w.org_a)
    return w.org_a


async def _person_token(w: World) -> int:
    person_id = await _fresh_person(w)
    await calendar.feed_url_for_person(w.ctx, person_id)
    return person_id


def _spec(w: World, org: int) -> shifts.ShiftSpec:
    start = (w.clock.now() + timedelta(days=9)).astimezone(w.ctx.zone).replace(
        tzinfo=None, hour=21, minute=0, second=0, microsecond=0)
    return shifts.ShiftSpec(organisation=org, area=w.area_a, start=start,
                            end=start + timedelta(hours=4))


def _month(w: World) -> tuple[date, date]:
    today = w.clock.now().astimezone(w.ctx.zone).date()
    return today.replace(day=1), today


def _texts(key: str, **params: Any) -> str:
    return t("sv", key, **params)


CORE_CASES = [
    CoreCase("create a shift for A",
             lambda w, a, _: shifts.create_shifts(w.ctx, a, _spec(w, w.org_a)),
             frozenset({"shifts.add"}), "lead_a"),
    CoreCase("cancel A's shift", lambda w, a, s: shifts.cancel_shift(w.ctx, a, s),
             frozenset({"shifts.cancel"}), "lead_a", prepare=_fresh_shift),
    CoreCase("mark a no-show on A's walk",
             lambda w, a, p: signups.mark_no_show(w.ctx, a, w.past_a, p),
             frozenset({"signups.no_show"}), "lead_a", prepare=_fresh_no_show),
    CoreCase("add an organisation",
             lambda w, a, _: directory.add_organisation(w.ctx, a, f"Förening {next(_fresh)}"),
             frozenset({"orgs.add"}), "coordinator"),
    CoreCase("add an area",
             lambda w, a, _: directory.add_area(w.ctx, a, f"Område {next(_fresh)}"),
             frozenset({"areas.add"}), "coordinator"),
    CoreCase("move an area's meeting point",
             lambda w, a, area: update_area(w.ctx, a, area, "Ny mötesplats", 56.66, 16.36),
             frozenset({"areas.update"}), "coordinator", prepare=_fresh_area),
    CoreCase("add a volunteer to A",
             lambda w, a, _: directory.add_person(w.ctx, a, name="Ny vandrare",
                                                  organisation=w.org_a),
             frozenset({"people.add"}), "lead_a"),
    CoreCase("add a lead to B",
             lambda w, a, _: directory.add_person(w.ctx, a, name="Ny ledare", role=Role.LEAD,
                                                  organisation=w.org_b),
             frozenset({"people.add"}), "coordinator"),
    CoreCase("mark A's walker trained",
             lambda w, a, p: directory.set_trained(w.ctx, a, p, True),
             frozenset({"people.trained"}), "lead_a", prepare=_fresh_person),
    CoreCase("call A's walkers", lambda w, a, _: broadcast.call_for_walkers(w.ctx, a, w.shift_a),
             frozenset({"broadcast"}), "lead_a"),
    CoreCase("call everyone for B's shift",
             lambda w, a, _: broadcast.call_for_walkers(w.ctx, a, w.shift_b, "everyone"),
             frozenset({"broadcast", "broadcast.everyone"}), "coordinator"),
    CoreCase("erase someone else", lambda w, a, p: people.erase_person(w.ctx, a, p),
             frozenset({"people.remove"}), "coordinator", prepare=_fresh_person),
    CoreCase("export someone else's data",
             lambda w, a, _: privacy.export_person_data(w.ctx, a, w.ids["target"]),
             frozenset({"people.data_export"}), "coordinator"),
    CoreCase("statistics", lambda w, a, _: stats.statistics(w.ctx, a, *_month(w)),
             frozenset({"stats.view"}), "lead_a", refused=OWN_ORG_ONLY | {"unknown"}),
    CoreCase("export reports",
             lambda w, a, _: exports.build_export(
                 w.ctx, a, exports.ExportRequest("reports", *_month(w)), _texts),
             frozenset({"export.reports"}), "lead_a", refused=OWN_ORG_ONLY | {"unknown"}),
    CoreCase("export sign-ups with contacts",
             lambda w, a, _: exports.build_export(
                 w.ctx, a, exports.ExportRequest("signups", *_month(w), with_contacts=True),
                 _texts),
             frozenset({"export.signups", "export.signups.contacts"}), "coordinator"),
    CoreCase("payment basis", lambda w, a, _: payments.payment_basis(w.ctx, a, *_month(w)),
             frozenset({"payments.view"}), "lead_a", refused=OWN_ORG_ONLY | {"unknown"}),
    CoreCase("places list", lambda w, a, _: places.list_places(w.ctx, a),
             frozenset({"places.view"}), "lead_a", refused=OWN_ORG_ONLY | {"unknown"}),
    CoreCase("mark a place", lambda w, a, p: places.mark_place(w.ctx, a, p, "reported"),
             frozenset({"places.mark"}), "coordinator", prepare=_fresh_place),
    CoreCase("dashboard link", lambda w, a, _: issue_dashboard_link(w.ctx, a),
             frozenset({"dashboard.link"}), "lead_a", refused=OWN_ORG_ONLY | {"unknown"}),
    CoreCase("dashboard: upcoming shifts",
             lambda w, a, _: overview.upcoming_shifts(w.ctx, a, _month(w)[1]),
             frozenset({"dashboard.view"}), "lead_a", refused=OWN_ORG_ONLY | {"unknown"}),
    CoreCase("dashboard: reports",
             lambda w, a, _: overview.list_reports(w.ctx, a, overview.ReportFilter(*_month(w))),
             frozenset({"reports.view"}), "lead_a", refused=OWN_ORG_ONLY | {"unknown"}),
    CoreCase("dashboard: one of A's reports",
             lambda w, a, _: overview.report_detail(w.ctx, a, w.report_a),
             frozenset({"reports.view"}), "lead_a"),
    CoreCase("revoke A's calendar links",
             lambda w, a, o: calendar.revoke_tokens(
                 w.ctx, a, calendar.FeedOwner(None, o, "IFK Kalmar")),
             frozenset({"calendar.revoke"}), "lead_a", prepare=_org_token),
    CoreCase("revoke someone else's calendar link",
             lambda w, a, p: calendar.revoke_tokens(w.ctx, a, calendar.FeedOwner(p, None, "x")),
             frozenset({"calendar.revoke"}), "coordinator", prepare=_person_token),
]


def core_matrix() -> list[Any]:
    return [pytest.param(case, persona, id=f"{case.name}-{persona}")
            for case in CORE_CASES for persona in OUTSIDERS if persona in case.refused]


@pytest.mark.parametrize(("case", "persona"), core_matrix())
async def test_core_action_refused(world: World, case: CoreCase, persona: str) -> None:
    """PermissionDenied, one refused audit entry naming the actor, and no change."""
    target = await case.prepare(world) if case.prepare else 0
    before, mark = await snapshot(world.ctx), await last_audit_id(world.ctx)
    actor = world.actor(persona)
    with pytest.raises((PermissionDenied, NotFound)) as refused:
        await case.run(world, actor, target)
    if isinstance(refused.value, NotFound):  # another organisation's report: not shown to exist
        assert (case.name, persona) == ("dashboard: one of A's reports", "lead_other")
    assert_refusal_audited(await audit_since(world.ctx, mark), actor.person_id, set(case.audit),
                           "cli")
    assert await snapshot(world.ctx) == before


@pytest.mark.parametrize("case", CORE_CASES, ids=[c.name for c in CORE_CASES])
async def test_core_action_allowed_to_the_right_person(world: World, case: CoreCase) -> None:
    """The positive control: A's lead or the coordinator succeeds (audited where it acts)."""
    target = await case.prepare(world) if case.prepare else 0
    mark = await last_audit_id(world.ctx)
    await case.run(world, world.actor(case.right), target)
    entries = await audit_since(world.ctx, mark)
    assert all(e.outcome == "ok" and e.actor_id == world.ids[case.right] for e in entries)


async def test_lead_of_another_organisation_exports_only_their_own(world: World) -> None:
    """Exports and statistics scoped to a lead's organisation hold nothing of another's."""
    actor = world.actor("lead_other")
    for kind in exports.KINDS:
        tables = await exports.build_export(
            world.ctx, actor, exports.ExportRequest(kind, *_month(world)), _texts)
        cells = [str(cell) for table in tables for row in table.rows for cell in row]
        assert not any("IFK Kalmar" in c or AREA_A in c for c in cells), (kind, cells)
    report = await stats.statistics(world.ctx, actor, *_month(world))
    assert report.overall.held == 0 and AREA_A not in [name for name, _ in report.by_area]
    assert await overview.list_reports(
        world.ctx, actor, overview.ReportFilter(*_month(world))) == []
    assert {s.view.shift.organisation_id for s in await overview.upcoming_shifts(
        world.ctx, actor, _month(world)[1])} <= {world.org_b}


async def test_the_walked_report_is_there(world: World) -> None:
    """The seeded world is what the matrix assumes (a guard against a vacuous matrix)."""
    async with world.ctx.store.sessions() as session:
        report = await session.get(Report, world.report_a)
        shift_a = await session.get(Shift, world.shift_a)
    assert report is not None and report.status == "submitted"
    assert shift_a is not None and shift_a.status == ShiftStatus.PLANNED
