"""SMS parity: every question has an SMS answer, no SMS text names a Telegram command or a
file, the consent text fits two segments and links to the privacy notice vandra serves."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlmodel import select
from starlette.applications import Starlette

from bot.channels.gsm7 import REPLACEMENT, is_gsm7, segments, to_gsm7
from bot.channels.sms import parse
from bot.channels.sms_sender import sms_text
from bot.i18n import catalogue
from bot.notifications import NotificationRenderer
from bot.privacy_page import privacy_routes
from models.tables import Report, Role, Shift
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.content import Recipient
from scheduling.messages.kinds import Kind
from scheduling.people import directory
from scheduling.walks import shifts, signups
from tests.helpers import OPERATOR, add_shift, seed_org_area, with_settings
from tests.test_sms import ANNA, PUBLIC, Phone, client_for, sms_ctx, sms_walker

# Texts an SMS never carries: Telegram's menus and buttons, the dashboard, the lead's help.
NOT_BY_SMS = ("menu.", "telegram.", "coordinator.dash.", "help.chat", "help.coordinator")
NOT_BY_SMS_KEYS = {"registration.ask_phone"}
COMMAND_OR_FILE = re.compile(r"(?<![\w<:/.])/[a-z_]{2,}|docs/|\.md\b")


def sms_texts(language: str) -> dict[str, str]:
    """Every catalogue text an SMS may carry: the ``_sms`` variant where there is one."""
    texts = catalogue(language)
    return {
        key: texts.get(f"{key}_sms", value)
        for key, value in texts.items()
        if not key.startswith(NOT_BY_SMS)
        and key not in NOT_BY_SMS_KEYS
        and not key.endswith("_sms")
    }


def test_no_sms_text_names_a_telegram_command_or_a_file() -> None:
    for language in ("sv", "en"):
        for key, text in sms_texts(language).items():
            assert not COMMAND_OR_FILE.search(text), (language, key, text)
            # every character has a GSM-7 spelling: none is replaced by "?"
            assert to_gsm7(text).count(REPLACEMENT) == text.count(REPLACEMENT), (language, key)


async def consent_question(ctx: Context, language: str) -> str:
    """The consent question as an SMS, reached through NAMN registration."""
    org_ctx = sms_ctx(ctx, open_registration=True)
    async with client_for(org_ctx) as client:
        phone = Phone(client, "+46709999999" if language == "sv" else "+46709999998")
        if language == "en":
            await phone.text("HELP")  # nothing stored yet: the language comes from the text
        await phone.text("NAMN Bea Berg" if language == "sv" else "NAME Bea Berg")
        await phone.text("1")
        return (await phone.text("1"))[0]


async def test_consent_by_sms_fits_two_segments_and_links_the_notice(ctx: Context) -> None:
    await seed_org_area(ctx)
    text = await consent_question(ctx, "sv")
    assert f"{PUBLIC}/integritet" in text and "Godkänner du" in text
    assert "1=Jag godkänner" in text and "MINA DATA" in text
    assert is_gsm7(text) and segments(text) <= 2, (segments(text), text)


def test_consent_texts_fit_two_segments_on_every_channel() -> None:
    """Telegram's consent text too (with its commands), in both languages, with the link."""
    url = "https://vandra.kalmar.se/integritet"
    for language in ("sv", "en"):
        texts = catalogue(language)
        more = texts["registration.privacy_more"].format(url=url)
        answers = f"\n1={texts['registration.consent_yes']} 2={texts['registration.consent_no']}"
        for key in ("registration.privacy_notice", "registration.privacy_notice_sms"):
            notice = texts[key].format(more=more)
            question = texts["registration.ask_consent"].format(notice=notice) + answers
            assert segments(to_gsm7(question)) <= 2, (language, key, len(question))
            assert url in question


async def test_the_privacy_notice_is_served_with_the_kommuns_details(ctx: Context) -> None:
    ctx = with_settings(
        ctx,
        privacy={"controller": "Kalmar kommun", "contact": "Samordnaren, 0480-123", "dpo": "DSO"},
    )
    app = Starlette(routes=privacy_routes(ctx.settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        swedish = await client.get("/integritet")
        english = await client.get("/privacy")
    assert swedish.status_code == 200 and english.status_code == 200
    assert "Kalmar kommun" in swedish.text and "Samordnaren, 0480-123" in swedish.text
    assert "DSO" in swedish.text and "*[" not in swedish.text.split("Vem ansvarar")[1][:400]
    assert "<h2>Svenska</h2>" in swedish.text and "English" not in swedish.text.split("</h2>")[1]
    assert "Kalmar kommun is the data controller" in english.text
    assert "<script" not in swedish.text


async def test_help_keeps_the_numbered_options_of_a_question(ctx: Context) -> None:
    """HJÄLP in the middle of a question: the next number still picks an option."""
    await seed_org_area(ctx)
    async with client_for(sms_ctx(ctx, open_registration=True)) as client:
        phone = Phone(client)
        asked = (await phone.text("NAMN Bea Berg"))[0]
        assert "1=IFK Kalmar" in asked
        assert "PASS" in (await phone.text("HJÄLP"))[0]
        assert "minst 18" in (await phone.text("1"))[0]


async def test_staff_decisions_are_refused_by_sms_and_replacement_is_not(
    ctx: Context, clock: ManualClock
) -> None:
    """A lead's decisions (go ahead, call off, approve, refuse, who came) are never taken by
    SMS, whose sender can be forged: the SMS asking for one says to answer in Telegram or on
    the dashboard, names no keyword for it, and the keyword typed anyway is refused and changes
    nothing. A walker's own replacement offer is answered by SMS."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area, start_in=timedelta(hours=20))
    render = NotificationRenderer()
    check = await render(
        Kind.FINAL_CHECK,
        {"shift_id": shift.id, "confirmed": 1, "min_walkers": 3},
        Recipient(person_id=1, language="sv"),
        ctx,
    )
    text = sms_text(check, "sv")
    assert "GENOMFÖR" not in text and "INSTÄLL" not in text and "Telegram" in text
    offer = await render(
        Kind.REPLACE_PROMPT, {"shift_id": shift.id}, Recipient(person_id=1, language="en"), ctx
    )
    assert f"REPLACE {shift.id}" in sms_text(offer, "en")
    parsed = parse(f"ersätt {shift.id}", ANNA).inbound
    assert parsed is not None and parsed.action == f"replace:{shift.id}"
    lead = await directory.add_person(
        ctx, OPERATOR, name="Lena", phone=ANNA, organisation=org, role=Role.LEAD
    )
    await directory.record_consent(ctx, lead.id or 0)
    async with client_for(sms_ctx(ctx)) as client:
        phone = Phone(client)
        for body in (f"GENOMFÖR {shift.id}", f"inställ {shift.id}", "GODKÄNN 7", "neka 7",
                     f"GO {shift.id}", f"CALLOFF {shift.id}", f"NÄRVARO {shift.id}"):
            answer = (await phone.text(body))[0]
            assert "behörighet" in answer and "Telegram" in answer, (body, answer)
    async with ctx.store.transaction() as session:
        after = await session.get(Shift, shift.id)
    assert after is not None and after.cancelled_at is None and after.status == "planned"


async def test_mina_says_when_a_shift_was_cancelled(ctx: Context) -> None:
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    walker = await sms_walker(sms_ctx(ctx), org)
    await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    await shifts.cancel_shift(ctx, OPERATOR, shift.id or 0)
    async with client_for(sms_ctx(ctx)) as client:
        listing = (await Phone(client).text("MINA"))[0]
    assert "inställt" in listing and "anmäld" not in listing


async def test_the_walker_count_by_sms_is_the_number_typed(
    ctx: Context, clock: ManualClock
) -> None:
    """The count question by SMS has no numbered menu: "4" means four walkers."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    walker = await sms_walker(sms_ctx(ctx), org)
    await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(minutes=5))
    async with client_for(sms_ctx(ctx)) as client:
        phone = Phone(client)
        await phone.text(f"RAPPORT {shift.id}")
        asked = (await phone.text("2"))[0]  # something happened: the questions follow
        assert "Svara med antalet" in asked and "1=" not in asked
        await phone.text("4")
    async with ctx.store.transaction() as session:
        report = (await session.exec(select(Report))).one()
    assert report.walkers_present == 4


async def test_the_report_by_sms_says_how_to_answer_by_sms(
    ctx: Context, clock: ManualClock
) -> None:
    """By SMS the report's intro speaks of a reply, not a tap, and the pick-all questions say
    that one reply with several numbers ("1 3") picks them all: one number moves on at once,
    so "choose all, then Done" would lose the rest. "1 3" stores both."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    walker = await sms_walker(sms_ctx(ctx), org)
    await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    clock.set(shift.end_at + timedelta(minutes=5))
    tapping = re.compile(r"(?i)tryck|\btap\b|sedan klar|then done")
    async with client_for(sms_ctx(ctx)) as client:
        phone = Phone(client)
        (intro,) = await phone.text(f"RAPPORT {shift.id}")
        assert not tapping.search(intro) and "1=Inget" in intro, intro
        for answer in ("2", "3", "1", "1", "1"):  # fill in; walkers, youth, mood, alcohol
            await phone.text(answer)
        (help_given,) = await phone.text("2")  # no drugs
        assert "Gav ni hjälp?" in help_given and "1 3" in help_given, help_given
        assert not tapping.search(help_given), help_given
        (services,) = await phone.text("1 3")
        assert "Kontaktade ni någon?" in services and "1 3" in services, services
        (areas,) = await phone.text("6")
        assert "Var gick ni?" in areas and "1 3" in areas, areas
    async with ctx.store.transaction() as session:
        report = (await session.exec(select(Report))).one()
    assert sorted(report.help_given or []) == ["helped_home", "mediation"]


def test_every_report_question_has_an_sms_wording_in_both_languages() -> None:
    for language in ("sv", "en"):
        texts = catalogue(language)
        for key in ("report.intro", "report.q_help_given", "report.q_services_contacted",
                    "report.q_areas"):
            assert f"{key}_sms" in texts, (language, key)
            assert not re.search(r"(?i)tryck|\btap\b|\bdone\b|\bklar\b", texts[f"{key}_sms"])
