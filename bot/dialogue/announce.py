"""An announcement in chat (``/meddelande``): a lead to their organisation's walkers, the
coordinator to anyone. Choose the audience (everyone of the organisation, an area's coming
shifts, one night's), write the text, see the head-count ("Skicka till 23 vandrare?") and a
warning when it would arrive in quiet hours, then send. A walker turns announcements off or on
(``/utskick_av``, ``/utskick_pa``; by SMS ``UTSKICK AV`` / ``UTSKICK PA``) or with the button
under one.

Actions: ``an:org:<id>``, ``an:all``, ``an:areas``, ``an:area:<id>``, ``an:nights``,
``an:night:<YYYY-MM-DD>``, ``an:send``; ``ann:off`` / ``ann:on`` a walker's own setting.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.dialogue.registry import Routes
from bot.dialogue.roles import managed_scope
from bot.dialogue.turn import Turn
from scheduling.common.text import small_number
from scheduling.messages import announcements
from scheduling.messages.audiences import Audience
from scheduling.messages.content import Option
from scheduling.people import announcement_settings, directory

FLOW = "announce"
NIGHTS = 7


def register(routes: Routes) -> None:
    routes.command("announce", _start)
    routes.action("an", _choose)
    routes.flow(FLOW, _text)
    routes.command("announcements_off", _off)
    routes.command("announcements_on", _on)
    routes.action("ann", _toggle)


async def _start(turn: Turn, args: str) -> None:
    org = await managed_scope(turn, "broadcast.send")
    turn.goto(FLOW, "audience", org=org)
    options = [turn.option("plan.announce.to_org", f"an:org:{org}")] if org else [
        turn.option("plan.announce.to_all", "an:all")
    ]
    options += [turn.option("plan.announce.to_area", "an:areas"),
                turn.option("plan.announce.to_night", "an:nights")]
    turn.say("plan.announce.choose", options=options)


async def _choose(turn: Turn, action: str) -> None:
    org = await managed_scope(turn, "broadcast.send")
    what, _, value = action.partition(":")[2].partition(":")
    if turn.flow != FLOW:
        turn.say("common.stale_button")
    elif what == "areas":
        areas = await directory.list_areas(turn.ctx)
        turn.say("plan.announce.ask_area", options=[
            turn.option("registration.org_name", f"an:area:{a.id}", name=a.name[:40])
            for a in areas[:20]
        ])
    elif what == "nights":
        today = turn.ctx.now().astimezone(turn.ctx.zone).date()
        turn.say("plan.announce.ask_night", options=[_night(turn, today + timedelta(days=n))
                                                      for n in range(NIGHTS)])
    elif what == "send" and turn.step == "confirm":
        await _send(turn, org)
    elif what in ("org", "all", "area", "night"):
        turn.goto(FLOW, "text", audience=[what, value])
        turn.say("plan.announce.ask_text", max=announcements.MAX_BROADCAST_CHARS)
    else:
        turn.say("common.stale_button")


def _night(turn: Turn, day: date) -> Option:
    return turn.option("newshift.day", f"an:night:{day.isoformat()}",
                       day=turn.text(f"weekday.{day.weekday()}"), date=f"{day.day}/{day.month}")


def _audience(turn: Turn, org: int | None) -> Audience:
    """The audience held in the conversation; a lead's is always their own organisation."""
    what, value = (turn.data.get("audience") or ["", ""])[:2]
    if what == "org":
        return Audience(organisation_id=org if org is not None else small_number(value))
    if what == "area":
        return Audience(organisation_id=org, area_id=small_number(value))
    if what == "night":
        return Audience(organisation_id=org, night=date.fromisoformat(value))
    return Audience(organisation_id=org)


async def _text(turn: Turn, text: str) -> None:
    """The text written: show the head-count and any quiet-hours warning, ask to confirm."""
    if turn.step != "text":
        turn.say("plan.announce.use_buttons")
        return
    org = await managed_scope(turn, "broadcast.send")
    seen = await announcements.preview(turn.ctx, turn.actor, text, _audience(turn, org))
    turn.goto(FLOW, "confirm", text=seen.text)
    if seen.quiet_until is not None:
        until = seen.quiet_until.astimezone(turn.ctx.zone)
        turn.say("plan.announce.quiet", until=f"{until:%H:%M}")
    turn.say("plan.announce.confirm", count=seen.count, text=seen.text, options=[
        turn.option("plan.announce.send", "an:send"), turn.option("delete.no", "menu"),
    ])


async def _send(turn: Turn, org: int | None) -> None:
    text = str(turn.data.get("text") or "")
    audience = _audience(turn, org)
    turn.end_flow()
    sent = await announcements.broadcast(turn.ctx, turn.actor, text, audience)
    turn.say("plan.announce.sent", count=sent.recipients)


async def _off(turn: Turn, args: str) -> None:
    await _toggle(turn, "ann:off")


async def _on(turn: Turn, args: str) -> None:
    await _toggle(turn, "ann:on")


async def _toggle(turn: Turn, action: str) -> None:
    off = action.endswith(":off")
    await announcement_settings.set_announcements_off(turn.ctx, turn.person_id, off)
    turn.say("plan.announce.now_off" if off else "plan.announce.now_on")
