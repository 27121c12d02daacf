"""The words of the follow-up notices (``evaluation/followups/``), for the dispatcher: which
walk's report needs a follow-up (when, where, which organisation; nothing from the report's
text), where to act on it, and the kommun's guidance (``[followups] guidance``). In Telegram a
button opens it; by SMS no button and no Telegram command: acting on it is for Telegram or
the dashboard."""

from __future__ import annotations

from typing import Any

from bot.channels.gsm7 import to_gsm7
from bot.i18n import t
from scheduling.common.context import Context
from scheduling.messages.content import Option, Outgoing, Recipient
from scheduling.messages.kinds import Kind
from scheduling.walks.details import shift_details

KINDS = frozenset({Kind.FOLLOW_UP_OPENED, Kind.FOLLOW_UP_REMINDER})


def when_text(lang: str, ctx: Context, start: Any, end: Any) -> str:
    """``fre 27/11 21:00–01:00`` in local time."""
    local, until = start.astimezone(ctx.zone), end.astimezone(ctx.zone)
    day = t(lang, f"notify.weekday.{local.weekday()}")
    return t(lang, "notify.when", day=f"{day} {local.day}/{local.month}",
             start=f"{local:%H:%M}", end=f"{until:%H:%M}")


def guidance(lang: str, ctx: Context) -> str:
    text = ctx.settings.followups.guidance
    return t(lang, "followups.guidance", text=text) if text else ""


async def render_follow_up(
    kind: str, payload: dict[str, Any], recipient: Recipient, ctx: Context
) -> Outgoing:
    lang = recipient.language
    sms = recipient.telegram_id is None
    follow_up_id = int(payload.get("follow_up_id") or 0)
    details = await shift_details(ctx, int(payload.get("shift_id") or 0))
    facts = {"id": follow_up_id, "when": "?", "area": "?", "organisation": "?"}
    if details is not None:
        facts |= {"when": when_text(lang, ctx, details.shift.start_at, details.shift.end_at),
                  "area": details.area, "organisation": details.organisation}
    name = "opened" if kind == Kind.FOLLOW_UP_OPENED else "reminder"
    lines = [
        t(lang, f"followups.notify_{name}", days=payload.get("days", 3), **facts),
        t(lang, "followups.where_sms" if sms else "followups.where"),
        guidance(lang, ctx),
    ]
    text = "\n".join(part for part in lines if part)
    if sms:
        return Outgoing(to_gsm7(text).strip())
    return Outgoing(text, (Option(t(lang, "followups.open_button"), f"fu:show:{follow_up_id}"),))
