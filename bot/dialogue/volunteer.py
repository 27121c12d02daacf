"""What every walker can do: list shifts, sign up or join the waitlist, cancel, see their own
shifts, check in and out, choose a language, get help, see or delete their data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.dialogue import render
from bot.dialogue.confirm import confirmed_actor
from bot.dialogue.registry import Routes
from bot.dialogue.street import on_the_walk
from bot.dialogue.trust import untrusted
from bot.dialogue.turn import Turn
from bot.i18n import LANGUAGES
from bot.privacy_texts import my_data_summary
from scheduling.common.errors import DomainError
from scheduling.common.text import small_number
from scheduling.links.calendar import feed_url_for_person
from scheduling.messages.content import Document, Option
from scheduling.people import erasure as people
from scheduling.people.access import Actor
from scheduling.people.directory import set_language
from scheduling.people.lookups import messages_reach, person_view
from scheduling.people.privacy import export_my_data
from scheduling.walks import approval, replacement, safety, signups
from scheduling.walks.cards import ShiftCard, planned_shifts, shift_card
from scheduling.walks.views import ShiftView

PAGE_SIZE = {"sms": 4, "telegram": 8, "console": 8}
# The "Ja, radera" of a /radera question erases only this long after it was asked.
DELETE_QUESTION_VALID = timedelta(minutes=10)
DELETE_FLOW = "delete"


def register(routes: Routes) -> None:
    routes.command("start", _start)
    routes.command("shifts", _shifts)
    routes.command("my", _my)
    routes.command("help", _help)
    routes.command("language", _language)
    routes.command("delete", _delete)
    routes.command("mydata", _my_data)
    routes.command("cancel_flow", _cancel_flow)
    routes.action("page", lambda turn, action: _shifts(turn, action.split(":", 1)[1]))
    routes.action("shift", _shift_card)
    routes.action("signup", _sign_up)
    routes.action("cancel", _cancel)
    routes.action("in", _check_in)
    routes.action("checkin", _check_in)
    routes.action("replace", _replace)
    routes.action("out", _check_out)
    routes.action("lang", _set_language)
    routes.action("del", _confirm_delete)
    routes.action("menu", lambda turn, action: _shifts(turn, ""))


def _shift_id(action: str) -> int:
    """The id in ``signup:42``; a malformed one is a stale or forged button."""
    number = small_number(action.split(":", 1)[1]) if ":" in action else None
    if number is None:
        raise DomainError("stale_button")
    return number


async def _start(turn: Turn, args: str) -> None:
    if turn.data.get("then"):
        pending = str(turn.data.pop("then"))
        await _dispatch_pending(turn, pending)
        return
    turn.say("start.welcome_back", name=turn.person.name if turn.person else "")
    await _shifts(turn, "")


async def _dispatch_pending(turn: Turn, pending: str) -> None:
    handlers = {"shift": _shift_card, "signup": _sign_up}
    handler = handlers.get(pending.split(":", 1)[0])
    if handler is not None:
        await handler(turn, pending)


async def _shifts(turn: Turn, args: str) -> None:
    """Upcoming planned shifts, a page at a time, each with a button to open it."""
    page = small_number(args) or 1
    size = PAGE_SIZE.get(turn.inbound.channel, 8)
    views = await planned_shifts(turn.ctx, start_from=turn.ctx.now())
    if not views:
        turn.say("shifts.none")
        return
    pages = (len(views) + size - 1) // size
    page = min(page, pages)
    chunk = views[(page - 1) * size : page * size]
    zone, lang = turn.ctx.zone, turn.lang
    if turn.inbound.channel == "sms":
        lines = [render.compact_line(v, lang, zone) for v in chunk]
        more = turn.text("shifts.sms_more", page=page + 1) if page < pages else ""
        turn.send("\n".join([*lines, turn.text("shifts.sms_how"), more]).strip())
        return
    options = [
        turn.option("shifts.button", f"shift:{v.shift.id}", line=render.list_line(v, lang, zone))
        for v in chunk
    ]
    if page < pages:
        options.append(turn.option("shifts.next_page", f"page:{page + 1}"))
    turn.say("shifts.title", page=page, pages=pages, options=options)


async def _shift_card(turn: Turn, action: str) -> None:
    """One shift with the buttons that fit: sign up, waitlist, cancel, check in or out, report."""
    shift_id = _shift_id(action)
    card = await shift_card(turn.ctx, turn.actor, shift_id)
    text = render.card(card.view, turn.lang, turn.ctx.zone, card.my_status)
    if card.group_lead is not None:
        key = "grouplead.proposed" if card.group_lead.proposed else "grouplead.named"
        text = f"{text}\n{turn.text(key, name=card.group_lead.name)}"
    turn.send(
        text,
        options=_card_options(turn, card),
        edit_key=f"shift:{shift_id}",
    )


def _card_options(turn: Turn, card: ShiftCard) -> list[Option]:
    """The buttons of a card, in order, as far as the person may use them now."""
    sid = card.view.shift.id
    buttons = (
        (card.may_sign_up, "shift.join_waitlist" if card.full else "shift.sign_up", "signup"),
        (card.may_confirm_offer, "shift.confirm_offer", "signup"),
        (card.may_cancel, "shift.cancel", "cancel"),
        (card.may_check_in, "shift.check_in", "in"),
        (card.may_check_out, "shift.check_out", "out"),
        (card.may_report, "shift.report", "report"),
        (card.may_cancel_shift and turn.inbound.channel != "sms", "plan.edit.button", "ed"),
        (card.may_cancel_shift, "shift.cancel_shift", "sc"),
        (card.may_raise_alarm and turn.inbound.channel != "sms", "shift.alarm", "larm"),
        (card.may_name_group_lead, "grouplead.button", "gl"),
        (on_the_walk(card, turn.ctx.now()), "street.late_button", "late"),
        (on_the_walk(card, turn.ctx.now()), "street.share_button", "share"),
    )
    options = [turn.option(key, f"{prefix}:{sid}") for shown, key, prefix in buttons if shown]
    options.append(turn.option("shift.back", "menu"))
    return options


async def _sign_up(turn: Turn, action: str) -> None:
    shift_id = _shift_id(action)
    if turn.person is not None and not turn.person.approved:
        await approval.wait_for_shift(turn.ctx, turn.person_id, shift_id)
        turn.say("lifecycle.waiting_shift", id=shift_id)
        return
    result = await signups.sign_up(turn.ctx, turn.person_id, shift_id)
    view = result.view
    when = render.local_when(view, turn.lang, turn.ctx.zone)
    if result.outcome == "confirmed":
        turn.say(
            "signup.confirmed",
            id=shift_id,
            when=when,
            area=view.area,
            meeting_point=view.meeting_point or "-",
            options=[turn.option("shift.cancel", f"cancel:{shift_id}")],
        )
    else:
        turn.say(
            "signup.waitlisted",
            id=shift_id,
            when=when,
            position=result.waitlist_position,
            options=[turn.option("shift.cancel", f"cancel:{shift_id}")],
        )
    if turn.inbound.channel == "sms" and not await messages_reach(turn.ctx, turn.person_id):
        turn.say("signup.texts_stopped")  # the promised reminder or seat offer cannot come


async def _cancel(turn: Turn, action: str) -> None:
    shift_id = _shift_id(action)
    result = await signups.cancel_signup(turn.ctx, turn.person_id, shift_id)
    when = render.local_when(result.view, turn.lang, turn.ctx.zone)
    turn.say("signup.cancelled", id=shift_id, when=when)


async def _replace(turn: Turn, action: str) -> None:
    """After a late cancellation: offer the seat to the organisation's free volunteers."""
    shift_id = _shift_id(action)
    count = await replacement.request_replacement(turn.ctx, turn.person_id, shift_id)
    turn.say("replace.asked", id=shift_id, count=count)


async def _my(turn: Turn, args: str) -> None:
    """The person's own coming shifts, and their private calendar link."""
    mine = await signups.my_shifts(turn.ctx, turn.person_id)
    link = await _calendar_link(turn)
    renew = turn.option("my.new_calendar", "cal:new")
    if not mine:
        turn.say("my.none", calendar=link, options=[turn.option("my.browse", "menu"), renew])
        return
    zone, lang = turn.ctx.zone, turn.lang
    if turn.inbound.channel == "sms":  # a page at a time, as PASS: one text stays short
        size = PAGE_SIZE["sms"]
        pages = (len(mine) + size - 1) // size
        page = min(small_number(args) or 1, pages)
        lines = [
            f"{render.compact_line(v, lang, zone)} {_my_status(turn, v, s.status)}"
            for v, s in mine[(page - 1) * size : page * size]
        ]
        more = turn.text("my.sms_more", page=page + 1) if page < pages else ""
        turn.send("\n".join([*lines, turn.text("my.sms_how"), more, link]).strip())
        return
    options = [
        turn.option(
            "my.button",
            f"shift:{v.shift.id}",
            line=render.list_line(v, lang, zone),
            status=_my_status(turn, v, s.status),
        )
        for v, s in mine
    ]
    turn.say("my.title", calendar=link, options=[*options, renew])


def _my_status(turn: Turn, view: ShiftView, status: str) -> str:
    """"anmäld", "reservlista", ... or "inställt" when the shift itself was cancelled."""
    if view.cancelled:
        return turn.text("my.status_shift_cancelled")
    return turn.text(f"my.status_{status}")


async def _calendar_link(turn: Turn) -> str:
    url = await feed_url_for_person(turn.ctx, turn.person_id)
    return turn.text("my.calendar", url=url)


async def _check_in(turn: Turn, action: str) -> None:
    shift_id = _shift_id(action)
    signup, changed = await signups.check_in(turn.ctx, turn.person_id, shift_id)
    assert signup.checked_in_at is not None
    key = "checkin.done" if changed else "checkin.already"
    options = [turn.option("shift.check_out", f"out:{shift_id}")]
    if turn.inbound.channel != "sms":  # the alarm button, while on the shift
        options.append(turn.option("shift.alarm", f"larm:{shift_id}"))
    turn.say(
        key,
        id=shift_id,
        time=render.local_time(signup.checked_in_at, turn.ctx.zone),
        options=options,
    )


async def _check_out(turn: Turn, action: str) -> None:
    """``out:<id>``. By SMS while the group's overdue check-out alert waits for this walker,
    ``UT <id>`` texts a one-time code and only ``UT <id> <code>`` checks out: a forged number
    must not end the alert (``scheduling/walks/safety.py``)."""
    shift_id = _shift_id(action)
    if untrusted(turn.inbound.channel) and await safety.awaits_check_out(
        turn.ctx, turn.person_id, shift_id
    ):
        again = f"UT {shift_id}"
        confirmed = await confirmed_actor(
            turn, f"out:{shift_id}", turn.inbound.code, "checkout.code", again, id=shift_id
        )
        if confirmed is None:
            return
    signup, changed = await signups.check_out(turn.ctx, turn.person_id, shift_id)
    assert signup.checked_out_at is not None
    key = "checkout.done" if changed else "checkout.already"
    turn.say(
        key,
        id=shift_id,
        time=render.local_time(signup.checked_out_at, turn.ctx.zone),
        options=[turn.option("shift.report", f"report:{shift_id}")],
    )


async def _help(turn: Turn, args: str) -> None:
    channel = turn.inbound.channel
    turn.say("help.sms" if channel == "sms" else "help.chat")
    turn.say("street.help")  # on the walk: SEN, DELA, LARM, KVITTERA
    if turn.person is not None and turn.person.is_manager and channel != "sms":
        turn.say("help.coordinator")


async def _language(turn: Turn, args: str) -> None:
    turn.say(
        "language.choose",
        options=[turn.option("language.sv", "lang:sv"), turn.option("language.en", "lang:en")],
    )


async def _set_language(turn: Turn, action: str) -> None:
    chosen = action.split(":", 1)[1] if ":" in action else ""
    if chosen not in LANGUAGES:
        turn.say("common.stale_button")
        return
    turn.data["lang"] = chosen
    if turn.person is not None:
        turn.person = person_view(await set_language(turn.ctx, turn.person_id, chosen))
    turn.say("language.set")


async def _my_data(turn: Turn, args: str) -> None:
    """Everything stored about the person: a JSON file in chat, a short summary by SMS."""
    if turn.inbound.channel == "sms":
        turn.send(await my_data_summary(turn.ctx, turn.person_id, turn.lang))
        return
    data = await export_my_data(turn.ctx, turn.person_id)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    turn.send(turn.text("mydata.caption"),
              document=Document(filename=f"vandra-mina-data-{turn.person_id}.json",
                                content=content))


async def _delete(turn: Turn, args: str) -> None:
    """Asks to confirm with a button; by SMS with the one-time code texted to the number
    (``RADERA`` texts it, ``RADERA 4821`` erases)."""
    if untrusted(turn.inbound.channel):
        keyword = turn.text("sms.delete_keyword")
        actor = await confirmed_actor(turn, "delete", args, "sms.delete_code", keyword)
        if actor is not None:
            await _erase(turn, actor)
        return
    turn.goto(DELETE_FLOW, "confirm", delete_asked_at=turn.ctx.now().isoformat())
    turn.say(
        "delete.confirm",
        options=[turn.option("delete.yes", "del:yes"), turn.option("delete.no", "del:no")],
        edit_key="del",
    )


async def _confirm_delete(turn: Turn, action: str) -> None:
    """The answer to the question ``/radera`` asked. The yes erases only while that question
    is pending: answered "Nej", replaced by any other command (which ends the flow) or older
    than ``DELETE_QUESTION_VALID`` it is a stale button, never an erasure weeks later. Both
    answers replace the question where the channel can edit it (its buttons go)."""
    pending = _delete_pending(turn)
    if action != "del:yes":
        if turn.flow == DELETE_FLOW:
            turn.end_flow()
        turn.say("delete.kept", edit_key="del")
        return
    if not pending:
        if turn.flow == DELETE_FLOW:
            turn.end_flow()
        turn.say("delete.stale", edit_key="del")
        return
    await _erase(turn, turn.actor, edit_key="del")


def _delete_pending(turn: Turn) -> bool:
    """Whether this conversation's ``/radera`` question is open and recent enough."""
    if turn.flow != DELETE_FLOW:
        return False
    asked = turn.data.get("delete_asked_at")
    try:
        asked_at = datetime.fromisoformat(str(asked))
    except ValueError:
        return False
    if asked_at.tzinfo is None:
        asked_at = asked_at.replace(tzinfo=UTC)
    return timedelta(0) <= turn.ctx.now() - asked_at <= DELETE_QUESTION_VALID


async def _erase(turn: Turn, actor: Actor, *, edit_key: str | None = None) -> None:
    await people.erase_person(turn.ctx, actor, turn.person_id)
    lang = turn.lang
    turn.end_flow()
    turn.person = None
    turn.conversation.person_id = None
    turn.conversation.data = {"lang": lang}
    turn.say("delete.done", edit_key=edit_key)


async def _cancel_flow(turn: Turn, args: str) -> None:
    turn.end_flow()
    turn.say("common.cancelled")
