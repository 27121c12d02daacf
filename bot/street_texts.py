"""The words of the group's messages before and during a walk (``scheduling/walks/``): the
group intro (``group_intro.py``), a number shared with the group (``sharing.py``) and "Jag blir
sen" (``running_late.py``), for the dispatcher.

Options: ``share:<shift>`` shares one's number with the group, ``late:<shift>`` says one will be
late; by SMS they become "Svara DELA 12 ..., SEN 12 ...". Only first names; no number except
the one a walker chose to share, and only while the share lasts.
"""

from __future__ import annotations

from typing import Any

from bot.alarm_texts import map_link
from bot.i18n import has_text, t
from scheduling.common.context import Context
from scheduling.messages.content import Option, Outgoing, Recipient
from scheduling.messages.kinds import Kind
from scheduling.walks.details import ShiftDetails, shift_details
from scheduling.walks.group_intro import GroupIntro, Member, group_intro
from scheduling.walks.sharing import shared_phone


async def render_street(
    kind: str, payload: dict[str, Any], recipient: Recipient, ctx: Context
) -> Outgoing:
    """One of ``STREET_KINDS`` in the recipient's language."""
    lang = recipient.language
    shift_id = int(payload.get("shift_id") or 0)
    details = await shift_details(ctx, shift_id)
    if details is None:
        return Outgoing(t(lang, "notify.generic"))
    facts = {"when": when(lang, ctx, details), "area": details.area, "id": shift_id,
             "name": payload.get("name") or "?"}
    if kind == Kind.RUNNING_LATE:
        minutes = payload.get("minutes")
        key = "street.late_notice_minutes" if minutes else "street.late_notice"
        return Outgoing(t(lang, key, minutes=minutes, **facts))
    if kind == Kind.NUMBER_SHARED:
        phone = await shared_phone(ctx, int(payload.get("share_id") or 0))
        key = "street.shared_notice" if phone else "street.shared_gone"
        return Outgoing(t(lang, key, phone=phone, **facts))
    intro = await group_intro(ctx, shift_id)
    return Outgoing(
        intro_text(lang, ctx, intro, details, recipient.person_id, facts),
        (Option(t(lang, "street.share_button"), f"share:{shift_id}"),
         Option(t(lang, "street.late_button"), f"late:{shift_id}")),
    )


def intro_text(
    lang: str, ctx: Context, intro: GroupIntro, details: ShiftDetails, me: int,
    facts: dict[str, Any],
) -> str:
    others = [m for m in intro.members if m.person_id != me]
    point = intro.meeting_point or details.area
    link = map_link(intro.latitude, intro.longitude)
    lines = [
        t(lang, "street.intro_head", **facts),
        t(lang, "street.intro_group", group=_group(lang, others)) if others
        else t(lang, "street.intro_alone"),
        t(lang, "street.intro_you_lead") if any(m.leads for m in intro.members
                                                 if m.person_id == me) else "",
        t(lang, "street.intro_meet", point=point),
        t(lang, "street.intro_map", link=link) if link else "",
        t(lang, "street.intro_bring", items=", ".join(checklist(lang, ctx))),
    ]
    return "\n".join(line for line in lines if line)


def _group(lang: str, members: list[Member]) -> str:
    """"IFK Kalmar: Anna (leder, utb.), Ola. Privat: Kim." — grouped by organisation."""
    by_org: dict[str, list[str]] = {}
    for m in members:
        marks = [t(lang, "street.mark_leads")] if m.leads else []
        marks += [t(lang, "street.mark_trained")] if m.trained else []
        label = f"{m.first_name} ({', '.join(marks)})" if marks else m.first_name
        by_org.setdefault(m.organisation or t(lang, "street.no_organisation"), []).append(label)
    return " ".join(f"{org}: {', '.join(names)}." for org, names in by_org.items())


def checklist(lang: str, ctx: Context) -> list[str]:
    """``[walks] checklist``: the known words in the walker's language, the rest as written."""
    return [
        t(lang, f"street.checklist.{item}") if has_text(f"street.checklist.{item}") else item
        for item in ctx.settings.walks.checklist
    ]


def when(lang: str, ctx: Context, details: ShiftDetails) -> str:
    start = details.shift.start_at.astimezone(ctx.zone)
    end = details.shift.end_at.astimezone(ctx.zone)
    day = f"{t(lang, f'notify.weekday.{start.weekday()}')} {start.day}/{start.month}"
    return t(lang, "notify.when", day=day, start=f"{start:%H:%M}", end=f"{end:%H:%M}")
