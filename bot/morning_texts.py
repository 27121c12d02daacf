"""The words of the morning picture (``evaluation/morning/``): its lines are catalogue keys
with values, rendered in the recipient's language. By SMS each line takes its short
``<key>_sms`` form where there is one, and the text is kept to ``SMS_MAX`` GSM-7
characters (two segments): a line that does not fit is left out, and "..." ends the text."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.channels.gsm7 import to_gsm7
from bot.i18n import has_text, t
from scheduling.common.context import Context
from scheduling.messages.content import Outgoing, Recipient

SMS_MAX = 306  # two GSM-7 segments of 153
ELLIPSIS = "..."


def render_morning(payload: dict[str, Any], recipient: Recipient, ctx: Context) -> Outgoing:
    lang = recipient.language
    sms = recipient.telegram_id is None
    try:
        night = date.fromisoformat(str(payload.get("night")))
        day = f"{t(lang, f'notify.weekday.{night.weekday()}')} {night.day}/{night.month}"
    except ValueError:
        day = "?"
    title = t(lang, _key("morning.title", sms), day=day)
    lines = [_line(lang, item, sms) for item in payload.get("lines") or []]
    if not sms:
        return Outgoing("\n".join([title, *lines]))
    return Outgoing(_fit([to_gsm7(title), *(to_gsm7(line) for line in lines)]))


def _key(key: str, sms: bool) -> str:
    return f"{key}_sms" if sms and has_text(f"{key}_sms") else key


def _line(lang: str, item: Any, sms: bool) -> str:
    if not isinstance(item, dict) or not has_text(str(item.get("key"))):
        return ""
    params = {name: _value(lang, value, sms) for name, value in
              (item.get("params") or {}).items()}
    return t(lang, _key(str(item["key"]), sms), **params)


def _value(lang: str, value: Any, sms: bool) -> Any:
    """A label translated, a list of lines joined, anything else as it is."""
    if isinstance(value, dict) and "t" in value:
        key = str(value["t"])
        return t(lang, key) if has_text(key) else "?"
    if isinstance(value, dict) and "items" in value:
        return "; ".join(_line(lang, item, sms) for item in value["items"] or [])
    return value


def _fit(lines: list[str]) -> str:
    """The whole lines that fit in ``SMS_MAX`` characters, in order; a line too long for the
    room left is left out (the later, shorter ones still come) and "..." says so."""
    kept: list[str] = []
    room = SMS_MAX - len(ELLIPSIS) - 1
    for line in (line for line in lines if line):
        if len("\n".join([*kept, line])) <= room:
            kept.append(line)
    left_out = len(kept) < len([line for line in lines if line])
    return "\n".join([*kept, ELLIPSIS] if left_out else kept)
