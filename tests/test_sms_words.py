"""SMS words after the red-team: CANCEL/AVBOKA with a number cancel a sign-up, Twilio's bare
opt-out words opt out (and nothing folded into one does), a bare YES or JA answers a pending
yes/no question instead of being swallowed."""

from __future__ import annotations

import pytest

from bot.channels import sms
from scheduling.common.context import Context
from scheduling.walks import signups
from tests.helpers import add_shift, seed_org_area
from tests.test_sms import ANNA, Phone, _opted_out, client_for, sms_ctx, sms_walker


@pytest.mark.parametrize("word", ["CANCEL", "cancel", "AVBOKA", "avboka", "Avboka"])
async def test_cancel_and_avboka_with_a_number_cancel_the_signup(ctx: Context, word: str) -> None:
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    ctx = sms_ctx(ctx)
    person = await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        phone = Phone(client)
        assert "anmäld" in (await phone.text(f"JA {shift.id}"))[0]
        assert "avbokad" in (await phone.text(f"{word} {shift.id}"))[0]
    assert await signups.my_shifts(ctx, person.id or 0) == []
    assert not await _opted_out(ctx, person.id or 0)


@pytest.mark.parametrize(
    "word", ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT", "OPTOUT", "revoke",
             " stop ", "STOPP"],
)
async def test_bare_opt_out_words_opt_out(ctx: Context, word: str) -> None:
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    person = await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        await Phone(client).text(word)
    assert await _opted_out(ctx, person.id or 0)


@pytest.mark.parametrize(
    "word", ["Stöp", "STÖP", "Stöpp", "ＳＴＯＰ", "ſtop", "Štop", "St\u0308op", "sto p", "AVBOKA"],
)
async def test_words_folded_into_stop_do_not_opt_out(ctx: Context, word: str) -> None:
    """Accent, width or ligature folding must not make another word Twilio's STOP."""
    assert sms.special(word) is None
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    person = await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        replies = await Phone(client).text(word)
    assert replies  # an answer (a hint), not a silent opt-out
    assert not await _opted_out(ctx, person.id or 0)


def test_keywords_still_fold_accents() -> None:
    """HJALP = HJÄLP for vandra's own keywords."""
    parsed = sms.parse("hjälp", ANNA)
    assert parsed.inbound is not None and parsed.inbound.command == "help"


async def test_bare_yes_and_ja_answer_a_pending_question(ctx: Context) -> None:
    """Registration by SMS: JA answers the age question, Twilio's YES the consent question
    (and still records the opt-in); with nothing pending YES stays silent."""
    await seed_org_area(ctx)
    ctx = sms_ctx(ctx, open_registration=True)
    async with client_for(ctx) as client:
        phone = Phone(client, "+46709876543")
        assert await phone.text("YES") == []
        assert "förening" in (await phone.text("NAMN Kim Berg"))[0]
        assert "18" in (await phone.text("1"))[0]
        assert "Godkänner" in (await phone.text("ja"))[0]
        done = await phone.text("YES")
        assert "registrerad" in done[0], done
        assert await phone.text("YES") == []  # nothing pending: silent, as Twilio answered


async def test_radera_ja_is_not_a_confirmation(ctx: Context) -> None:
    """By SMS, deletion is confirmed only with the code: a bare JA after RADERA is no yes."""
    org, _ = await seed_org_area(ctx)
    ctx = sms_ctx(ctx)
    person = await sms_walker(ctx, org)
    async with client_for(ctx) as client:
        phone = Phone(client)
        await phone.text("RADERA")
        await phone.text("JA")
        await phone.text("YES")
    assert not await _opted_out(ctx, person.id or 0)
    async with ctx.store.sessions() as session:
        from models.tables import Person

        stored = await session.get(Person, person.id)
    assert stored is not None and stored.erased_at is None
