"""The words of the alarm messages (``scheduling/walks/alarms.py``), for the dispatcher.

Everything an alert says travels in its payload, so rendering it asks the database nothing: an
alarm goes out as fast as the provider takes it. The leads and coordinators (``ack_by``) get
the walker's number and, in Telegram, the acknowledge button (``alarmack:<id>``), by SMS
"Svara KVITTERA <ref>" (a one-time code is texted back); the group gets neither (numbers
are not shown to other walkers). By SMS: GSM-7, no buttons, and no Telegram command names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import t
from scheduling.common.context import Context
from scheduling.messages.content import Option, Outgoing, Recipient
from scheduling.messages.kinds import Kind

MAP_LINK = "https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}"


def map_link(lat: Any, lon: Any) -> str | None:
    """An OpenStreetMap link with a marker, or None without a location."""
    if lat is None or lon is None:
        return None
    return MAP_LINK.format(lat=float(lat), lon=float(lon))


def render_alarm(kind: str, p: dict[str, Any], recipient: Recipient, ctx: Context) -> Outgoing:
    """One alarm message for one person in their language."""
    lang = recipient.language
    sms = recipient.telegram_id is None

    def say(key: str, **values: Any) -> str:
        return t(lang, f"notify.alarm.{key}", **values)

    facts = {
        "name": p.get("name") or "?",
        "when": _when(lang, ctx, p),
        "area": p.get("area") or "?",
        "organisation": p.get("organisation") or "?",
    }
    link = map_link(p.get("lat"), p.get("lon"))
    if kind == Kind.ALARM_LOCATION:
        return Outgoing(say("located", link=link or "?", **facts))
    if kind == Kind.ALARM_ACKNOWLEDGED:
        return Outgoing(say("acknowledged", by=p.get("by") or "?", **facts))
    if kind == Kind.ALARM_CANCELLED:
        return Outgoing(say("cancelled", **facts))
    return _alert(say, p, recipient, sms, link, facts, ctx)


def _alert(
    say: Any, p: dict[str, Any], recipient: Recipient, sms: bool, link: str | None,
    facts: dict[str, str], ctx: Context,
) -> Outgoing:
    repetition = int(p.get("repetition") or 0)
    manager = recipient.person_id in (p.get("ack_by") or [])
    minutes = int((ctx.now() - _instant(p.get("raised_at"), ctx)).total_seconds() // 60)
    lines = [
        say("repeat", repetition=repetition, minutes=max(minutes, 0), **facts)
        if repetition
        else say("alert", **facts),
        say("text", text=p["text"]) if p.get("text") else say("no_text"),
        say("location", link=link) if link else say("no_location"),
        say("group_lead", name=p["group_lead"]) if p.get("group_lead") else "",
        say("phone", name=facts["name"], phone=p["phone"]) if manager and p.get("phone") else "",
        say("advice"),
        _ack_how(say, p, sms) if manager else "",
    ]
    text = "\n".join(line for line in lines if line)
    options = () if sms or not manager else (Option(say("button"), f"alarmack:{p['alarm_id']}"),)
    return Outgoing(text, options)


def _ack_how(say: Any, p: dict[str, Any], sms: bool) -> str:
    """How to take the alarm: the button, or by SMS its reference (a code is texted back)."""
    if not sms:
        return say("ack_how")
    return say("ack_how_sms_ref", ref=p["ref"]) if p.get("ref") else say("ack_how_sms")


def _instant(value: Any, ctx: Context) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return ctx.now()


def _when(lang: str, ctx: Context, p: dict[str, Any]) -> str:
    try:
        start = datetime.fromisoformat(str(p.get("start"))).astimezone(ctx.zone)
        end = datetime.fromisoformat(str(p.get("end"))).astimezone(ctx.zone)
    except ValueError:
        return "?"
    day = t(lang, f"notify.weekday.{start.weekday()}")
    return t(lang, "notify.when", day=f"{day} {start.day}/{start.month}",
             start=f"{start:%H:%M}", end=f"{end:%H:%M}")
