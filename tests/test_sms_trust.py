"""The red-team's SMS attacks, replayed: valid Twilio signatures, another person's From number.

A forged sender number reaches only what a walker does with their own sign-ups: calls for
walkers, new shifts, dashboard links, acknowledging a safety alert by a number and erasing a
person are refused politely with nothing changed. Erasing oneself and acknowledging an alert by
SMS work only with the one-time code texted to the number (which the forger never sees).
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import col, select

from bot.channels.gsm7 import is_gsm7
from models.tables import (
    AuditEntry,
    Broadcast,
    DashboardLogin,
    OutboxMessage,
    Person,
    Role,
    SafetyAlert,
    SafetyAlertStatus,
    Shift,
)
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.people import confirmations, directory
from scheduling.walks.safety import new_alert_ref
from tests.helpers import OPERATOR, add_shift, seed_org_area
from tests.test_sms import Phone, client_for, sms_ctx

COORDINATOR = "+46705550001"
LEAD = "+46705550002"
WALKER = "+46705550003"
TELEGRAM_COMMAND = re.compile(r"(^|\s)/[a-z_]+")


async def _people(ctx: Context, org: int) -> dict[str, Person]:
    made = {}
    for key, phone, role in (("coordinator", COORDINATOR, Role.COORDINATOR),
                             ("lead", LEAD, Role.LEAD), ("walker", WALKER, Role.VOLUNTEER)):
        person = await directory.add_person(
            ctx, OPERATOR, name=key.title(), phone=phone, organisation=org, role=role
        )
        made[key] = await directory.record_consent(ctx, person.id or 0)
    return made


async def _counts(ctx: Context) -> dict[str, int]:
    async with ctx.store.sessions() as session:
        tables = {"shifts": Shift, "broadcasts": Broadcast, "outbox": OutboxMessage,
                  "logins": DashboardLogin}
        counts = {}
        for name, table in tables.items():
            counts[name] = int((await session.exec(select(func.count()).select_from(table))).one())
        erased = await session.exec(select(func.count()).where(col(Person.erased_at).is_not(None)))
        counts["erased"] = int(erased.one())
        open_alerts = await session.exec(
            select(func.count()).where(col(SafetyAlert.status) == SafetyAlertStatus.OPEN)
        )
        counts["open_alerts"] = int(open_alerts.one())
    return counts


async def _open_alert(ctx: Context, shift_id: int) -> SafetyAlert:
    now = ctx.now()
    async with ctx.store.transaction() as session:
        alert = SafetyAlert(shift_id=shift_id, status=SafetyAlertStatus.OPEN, overdue_at=now,
                            raised_at=now, ref=new_alert_ref())
        session.add(alert)
    return alert


async def test_forged_numbers_reach_no_manager_power(ctx: Context) -> None:
    """utskick 1 2, nytt_pass ..., dashboard, KVITTERA 1, RADERA 1: each refused politely,
    in GSM-7 without a Telegram command, and nothing in the store changes."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    ctx = sms_ctx(ctx)
    await _people(ctx, org)
    alert = await _open_alert(ctx, shift.id or 0)
    before = await _counts(ctx)
    attacks = [
        ["utskick", "1", "2", "1"],
        ["broadcast", "1", "2"],
        ["nytt_pass", "1", "1", "2026-12-24", "21:00", "01:00", "1"],
        ["bemanning", "1"],
        ["statistik"],
        ["export", "1"],
        ["dashboard"],
        [f"KVITTERA {alert.id}", "1"],
        [f"ACK {alert.id}"],
        [f"JA {shift.id}", "2", "3"],  # a card's manager buttons are not offered by SMS
        ["RADERA", "1"],
        ["RADERA", "JA", "YES"],
        ["RADERA 0000", "RADERA 1234", "RADERA 9999", "RADERA 5555"],
        ["bc:all:1", f"sc:{shift.id}:yes", f"keep:{shift.id}", "del:yes", "ack:alert:1"],
    ]
    for number in (COORDINATOR, LEAD):
        async with client_for(ctx) as client:
            phone = Phone(client, number)
            for attack in attacks:
                for body in attack:
                    for reply in await phone.text(body):
                        assert is_gsm7(reply) and not TELEGRAM_COMMAND.search(reply), reply
                        assert "dashboard/login" not in reply, reply
                await phone.text("NEJ " + str(shift.id))  # leave the shift as it was
    after = await _counts(ctx)
    assert {k: v for k, v in after.items() if k != "outbox"} == {
        k: v for k, v in before.items() if k != "outbox"}
    async with ctx.store.sessions() as session:
        kinds = (await session.exec(select(OutboxMessage.kind))).all()
    assert "call_for_walkers" not in kinds and "shift_cancelled" not in kinds


async def test_manager_words_say_where_they_are_done(ctx: Context) -> None:
    """The coordinator's own number gets the word that it is done in Telegram or on the web,
    with "behörighet", audited as a refusal on the sms channel."""
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    await _people(ctx, org)
    async with client_for(ctx) as client:
        for word in ("utskick", "UTSKICK", "nytt_pass", "statistik", "dashboard", "bemanning"):
            (reply,) = await Phone(client, COORDINATOR).text(word)
            assert "Telegram" in reply and "behörighet" in reply, reply
    async with ctx.store.sessions() as session:
        refused = (await session.exec(
            select(AuditEntry).where(col(AuditEntry.outcome) == "refused"))).all()
    assert len(refused) == 6 and all(e.details["channel"] == "sms" for e in refused)


def _code(reply: str) -> str:
    found = re.search(r"\b(\d{4})\b", reply)
    assert found, reply
    return found.group(1)


async def test_radera_needs_the_code_texted_to_the_number(ctx: Context) -> None:
    """RADERA texts a code; a wrong one changes nothing; the right one erases, once."""
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    people = await _people(ctx, org)
    async with client_for(ctx) as client:
        phone = Phone(client, WALKER)
        (ask,) = await phone.text("radera")
        assert "RADERA" in ask and "10 minuter" in ask, ask
        code = _code(ask)
        wrong = "0000" if code != "0000" else "1111"
        assert "Fel kod" in (await phone.text(f"RADERA {wrong}"))[0]
        assert (await _counts(ctx))["erased"] == 0
        (done,) = await phone.text(f"RADERA {code}")
        assert "raderade" in done, done
    async with ctx.store.sessions() as session:
        walker = await session.get(Person, people["walker"].id)
    assert walker is not None and walker.erased_at is not None


async def test_codes_expire_are_single_use_and_have_few_attempts(
    ctx: Context, clock: ManualClock
) -> None:
    """After 10 minutes, after three wrong guesses and after a replacement a code is void;
    a person gets at most three codes an hour."""
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    await _people(ctx, org)
    async with client_for(ctx) as client:
        phone = Phone(client, WALKER)
        code = _code((await phone.text("RADERA"))[0])
        clock.advance(timedelta(minutes=10, seconds=1))
        assert "ingen giltig kod" in (await phone.text(f"RADERA {code}"))[0]
        code = _code((await phone.text("RADERA"))[0])
        # three wrong guesses, always three (the live code may be one of 0001-0003)
        for guess in [g for g in ("0001", "0002", "0003", "0004") if g != code][:3]:
            await phone.text(f"RADERA {guess}")
        assert "ingen giltig kod" in (await phone.text(f"RADERA {code}"))[0]
        code = _code((await phone.text("RADERA"))[0])
        assert "flera koder" in (await phone.text("RADERA"))[0]  # the fourth within the hour
        assert (await _counts(ctx))["erased"] == 0
        clock.advance(timedelta(minutes=61))
        newest = _code((await phone.text("RADERA"))[0])
        if code != newest:  # the replaced code is only a wrong guess now
            assert "Fel kod" in (await phone.text(f"RADERA {code}"))[0]
        assert "raderade" in (await phone.text(f"RADERA {newest}"))[0]


async def test_code_limits_per_purpose_and_in_all(ctx: Context, clock: ManualClock) -> None:
    """Three codes an hour per purpose (a fourth for it is refused while another purpose still
    gets one), ten an hour in all, and an hour later codes come again."""
    org, _ = await seed_org_area(ctx)
    person = await directory.add_person(ctx, OPERATOR, name="Kodare", organisation=org)
    pid = person.id or 0
    for _ in range(confirmations.MAX_CODES_PER_HOUR):
        assert await confirmations.issue_code(ctx, pid, "delete") is not None
    assert await confirmations.issue_code(ctx, pid, "delete") is None
    others = confirmations.MAX_CODES_PER_HOUR_IN_ALL - confirmations.MAX_CODES_PER_HOUR
    for n in range(others):
        assert await confirmations.issue_code(ctx, pid, f"alarmoff:{n}") is not None
    assert await confirmations.issue_code(ctx, pid, "alarmoff:999") is None
    clock.advance(timedelta(minutes=61))
    assert await confirmations.issue_code(ctx, pid, "delete") is not None


async def test_kvittera_by_reference_and_code(ctx: Context) -> None:
    """An alert is acknowledged by SMS by its random reference and the code texted to the
    lead's number; its id is refused, a walker is refused, a wrong code changes nothing."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    ctx = sms_ctx(ctx)
    await _people(ctx, org)
    alert = await _open_alert(ctx, shift.id or 0)
    ref = alert.ref or ""
    assert re.fullmatch(r"[A-Z][A-Z0-9]{5}", ref) and not ref.isdigit()
    async with client_for(ctx) as client:
        walker, lead = Phone(client, WALKER), Phone(client, LEAD)
        assert "behörighet" in (await walker.text(f"KVITTERA {ref}"))[0]
        assert "Telegram" in (await lead.text(f"KVITTERA {alert.id}"))[0]
        ask = (await lead.text(f"kvittera {ref.lower()}"))[0]
        assert f"KVITTERA {ref} " in ask, ask
        code = _code(ask)
        wrong = "0000" if code != "0000" else "1111"
        assert "Fel kod" in (await lead.text(f"KVITTERA {ref} {wrong}"))[0]
        assert (await _counts(ctx))["open_alerts"] == 1
        done = (await lead.text(f"KVITTERA {ref} {code}"))[0]
        assert ref in done and "kvitterat" in done, done
    assert (await _counts(ctx))["open_alerts"] == 0
