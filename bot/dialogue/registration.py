"""Registration on first contact: name, organisation, minimum age, consent; then, in Telegram,
an optional phone number (for SMS when Telegram fails). Nothing about a person is stored
before they consent: until then the answers live only in the conversation's state.

People added by an operator are registered already; for them only what is missing (their
consent) is asked, and the button that started the conversation (an alert's "Kvittera", the
final check's "Genomför") is carried out once they consent.
"""

from __future__ import annotations

from bot.dialogue.registry import Routes
from bot.dialogue.turn import Turn
from bot.privacy_page import privacy_url
from scheduling.common.errors import DomainError
from scheduling.common.text import clean_text, normalise_phone, small_number
from scheduling.people import directory
from scheduling.people.lookups import PersonView, organisation_exists, person_view
from scheduling.walks import approval, phone_linking

FLOW = "register"
PRIVATE_ORG = 0


def register(routes: Routes) -> None:
    routes.action("reg", _action)


def complete(turn: Turn) -> bool:
    return turn.person is not None and turn.person.may_walk


async def advance(turn: Turn) -> None:
    """Move registration on by one answer (or start it)."""
    inbound = turn.inbound
    if turn.person is None and not _may_register(turn):
        return
    if inbound.action is not None and not inbound.action.startswith("reg:"):
        if _worth_keeping(turn, inbound.action):
            turn.data["then"] = inbound.action
        inbound_action = None
    else:
        inbound_action = inbound.action
    if turn.flow != FLOW:
        turn.goto(FLOW, _first_step(turn))
        if inbound.command == "register" and inbound.args.strip():
            await _take_name(turn, inbound.args)
            return
        if inbound.command not in (None, "start", "register"):
            turn.say("registration.first")
        await _ask(turn)
        return
    if inbound_action is not None:
        await _action(turn, inbound_action)
    elif inbound.text and turn.step == "name":
        await _take_name(turn, inbound.text)
    elif inbound.command == "register" and inbound.args.strip() and turn.step == "name":
        await _take_name(turn, inbound.args)
    elif inbound.text and (number := small_number(inbound.text)) is not None:
        offered = turn.data.get("offered") or []
        if 1 <= number <= len(offered):
            await _action(turn, offered[number - 1])
        else:
            await _ask(turn)
    else:
        await _ask(turn)


def _worth_keeping(turn: Turn, action: str) -> bool:
    """Whether a button pressed before registration is carried out after it: a shift or a
    sign-up for anyone; any button for a person already stored (a lead added by the operator
    who taps "Genomför" or "Kvittera" on their first message consents, then it is done)."""
    return turn.person is not None or action.split(":", 1)[0] in ("signup", "shift")


def _may_register(turn: Turn) -> bool:
    if turn.inbound.channel == "sms" and not turn.ctx.settings.sms.open_registration:
        turn.say("registration.sms_closed")
        return False
    return True


def _first_step(turn: Turn) -> str:
    if turn.person is None:
        return "name"
    if not turn.person.registered:
        return "age"
    return "consent"


async def _ask(turn: Turn) -> None:
    step = turn.step
    if step == "name":
        options = []
        suggested = turn.inbound.display_name
        if suggested and turn.inbound.channel == "telegram":
            turn.data["suggested_name"] = suggested[:60]
            options.append(turn.option("registration.use_name", "reg:name", name=suggested[:60]))
        key = (
            "registration.ask_name_sms"
            if turn.inbound.channel == "sms"
            else ("registration.ask_name")
        )
        turn.say(key, options=options)
    elif step == "org":
        await _ask_org(turn)
    elif step == "age":
        min_age = turn.ctx.settings.walks.min_age
        turn.say(
            "registration.ask_age",
            min_age=min_age,
            options=[
                turn.option("registration.age_yes", "reg:age:yes", min_age=min_age),
                turn.option("registration.age_no", "reg:age:no", min_age=min_age),
            ],
        )
    elif step == "consent":
        turn.say(
            "registration.ask_consent",
            notice=consent_notice(turn),
            options=[
                turn.option("registration.consent_yes", "reg:consent:yes"),
                turn.option("registration.consent_no", "reg:consent:no"),
            ],
        )


def consent_notice(turn: Turn) -> str:
    """What is stored and why, in this channel's words, with the link to the full notice."""
    url = privacy_url(turn.ctx.settings, turn.lang)
    more = (
        turn.text("registration.privacy_more", url=url)
        if url
        else turn.text("registration.privacy_more_none")
    )
    return turn.text("registration.privacy_notice", more=more)


async def _take_name(turn: Turn, text: str) -> None:
    try:
        name = clean_text(text, field="name", max_length=80)
    except DomainError:
        turn.say("registration.bad_name")
        return
    turn.data["name"] = name
    await _ask_org(turn)


async def _ask_org(turn: Turn) -> None:
    turn.goto(FLOW, "org")
    orgs = await directory.list_organisations(turn.ctx)
    options = [
        turn.option("registration.org_name", f"reg:org:{o.id}", name=o.name[:40]) for o in orgs[:20]
    ]
    options.append(turn.option("registration.org_private", f"reg:org:{PRIVATE_ORG}"))
    turn.say("registration.ask_org", options=options)


async def _action(turn: Turn, action: str) -> None:
    parts = action.split(":")
    what = parts[1] if len(parts) > 1 else ""
    value = parts[2] if len(parts) > 2 else ""
    if turn.flow != FLOW:
        turn.say("common.stale_button")
    elif what == "name" and turn.step == "name" and turn.data.get("suggested_name"):
        await _take_name(turn, str(turn.data["suggested_name"]))
    elif what == "org" and turn.step == "org" and (org := small_number(value)) is not None:
        await _take_org(turn, org)
    elif what == "age" and turn.step == "age":
        await _take_age(turn, value == "yes")
    elif what == "consent" and turn.step == "consent":
        await _take_consent(turn, value == "yes")
    else:
        await _ask(turn)


async def _take_org(turn: Turn, org_id: int) -> None:
    if org_id != PRIVATE_ORG and not await organisation_exists(turn.ctx, org_id):
        await _ask_org(turn)
        return
    turn.data["org"] = org_id or None
    turn.goto(FLOW, "age")
    await _ask(turn)


async def _take_age(turn: Turn, old_enough: bool) -> None:
    if not old_enough:
        turn.end_flow()
        turn.data.pop("then", None)
        turn.say("registration.too_young", min_age=turn.ctx.settings.walks.min_age)
        return
    turn.data["age_ok"] = True
    turn.goto(FLOW, "consent")
    await _ask(turn)


async def _take_consent(turn: Turn, agreed: bool) -> None:
    if not agreed:
        turn.end_flow()
        turn.data.pop("then", None)
        turn.say("registration.no_consent")
        return
    if turn.person is None:
        person = await _create_person(turn)
        if not person.approved:
            await approval.request_approval(turn.ctx, person.id)
    else:
        if not turn.person.registered:
            await directory.confirm_age(turn.ctx, turn.person_id)
        person = person_view(await directory.record_consent(turn.ctx, turn.person_id))
    turn.person = person
    turn.end_flow()
    turn.say("registration.done", name=person.name)
    if turn.inbound.channel == "telegram" and person.phone is None:
        turn.say("registration.ask_phone", request_contact=True)


async def _create_person(turn: Turn) -> PersonView:
    inbound = turn.inbound
    person = await directory.register_person(
        turn.ctx,
        name=str(turn.data.get("name") or inbound.display_name or "?"),
        organisation_id=turn.data.get("org"),
        language=turn.lang,
        channel=inbound.channel,
        telegram_id=inbound.telegram_id,
        phone=inbound.phone,
    )
    return person_view(person)


async def contact_shared(turn: Turn) -> None:
    """A phone number shared through Telegram's contact button (the sender's own)."""
    assert turn.inbound.contact_phone is not None
    try:
        phone = normalise_phone(turn.inbound.contact_phone)
    except DomainError:
        turn.say("registration.bad_phone")
        return
    turn.person = person_view(await phone_linking.link_phone(turn.ctx, turn.person_id, phone))
    turn.say("registration.phone_saved", phone=phone)
