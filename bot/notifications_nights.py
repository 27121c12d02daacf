"""The words of the messages about nights offered to organisations (``scheduling/nights``).

Option actions (a lead's, never by SMS: the SMS says to answer in Telegram or on the
dashboard): ``night:<id>`` take the night (or take it over), ``nreserve:<id>`` stand as
reserve, ``nights`` the list of open nights.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import t
from scheduling.common.context import Context
from scheduling.messages.content import Option, Outgoing, Recipient
from scheduling.messages.kinds import Kind

STAFF_ELSEWHERE = "notify.staff_elsewhere_sms"
KINDS = frozenset(
    {Kind.NIGHTS_PUBLISHED, Kind.NIGHT_ALLOCATED, Kind.NIGHT_HANDED_ON, Kind.NIGHT_OFFERED}
)


def night_when(lang: str, ctx: Context, start: datetime, end: datetime) -> str:
    """``fre 12/12 21:00–01:00`` in the local zone."""
    local, until = start.astimezone(ctx.zone), end.astimezone(ctx.zone)
    day = f"{t(lang, f'notify.weekday.{local.weekday()}')} {local.day}/{local.month}"
    return t(lang, "notify.when", day=day, start=f"{local:%H:%M}", end=f"{until:%H:%M}")


def _day(lang: str, ctx: Context, text: str) -> str:
    local = datetime.fromisoformat(text).astimezone(ctx.zone)
    return f"{t(lang, f'notify.weekday.{local.weekday()}')} {local.day}/{local.month}"


def render_nights(kind: str, payload: dict[str, Any], recipient: Recipient,
                  ctx: Context) -> Outgoing:
    """The message of one of ``KINDS`` in the recipient's language."""
    lang = recipient.language
    hint = t(lang, STAFF_ELSEWHERE)
    listing = Option(t(lang, "nights.option_list"), "nights")
    if kind == Kind.NIGHTS_PUBLISHED:
        text = t(lang, "nights.published", count=payload.get("count", 0),
                 area=payload.get("area", "?"), first=_day(lang, ctx, payload["first"]),
                 last=_day(lang, ctx, payload["last"]))
        return Outgoing(text, (listing,), keyword_hint=hint)
    night_id = payload.get("night_id")
    values = {
        "id": night_id,
        "area": payload.get("area", "?"),
        "when": night_when(lang, ctx, datetime.fromisoformat(payload["start"]),
                           datetime.fromisoformat(payload["end"])),
        "organisation": payload.get("organisation") or "?",
    }
    if kind == Kind.NIGHT_ALLOCATED:
        return Outgoing(t(lang, "nights.allocated", **values))
    take = Option(t(lang, "nights.take"), f"night:{night_id}")
    if kind == Kind.NIGHT_OFFERED:
        key = "nights.offered_short" if payload.get("short") else "nights.offered_free"
        return Outgoing(t(lang, key, **values), (take,), keyword_hint=hint)
    if payload.get("taken_over"):  # by a reserve, from a holder short of walkers
        return Outgoing(t(lang, "nights.taken_over", **values))
    return Outgoing(t(lang, "nights.handed_on", **values), (take,), keyword_hint=hint)
