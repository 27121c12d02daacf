"""The words of the walker's life-cycle messages: approval asked for, given or refused; who
came to a shift (``att:<shift>`` opens the list).

Option actions: ``approve:<person>`` and ``reject:<person>`` (a lead's or the coordinator's
decision, never by SMS: the SMS says to answer in Telegram or on the dashboard instead);
``cancel:<shift>`` after being signed up on approval.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from scheduling.common.context import Context
from scheduling.messages.content import Option, Outgoing, Recipient
from scheduling.messages.kinds import Kind
from scheduling.walks.details import ShiftDetails, shift_details

# By SMS a lead's decision is not offered as a keyword: it is taken in Telegram or on the
# dashboard (``bot/dialogue/trust.py``).
STAFF_ELSEWHERE = "notify.staff_elsewhere_sms"
KINDS = frozenset(
    {
        Kind.APPROVAL_REQUEST,
        Kind.APPROVED,
        Kind.REJECTED,
        Kind.ATTENDANCE_CHECK,
        Kind.RECORD_CHECK_LAPSING,
    }
)


async def render_lifecycle(
    kind: str, payload: dict[str, Any], recipient: Recipient, ctx: Context
) -> Outgoing:
    """The message of one of ``KINDS`` in the recipient's language."""
    lang = recipient.language
    if kind == Kind.APPROVAL_REQUEST:
        person_id = int(payload.get("person_id") or 0)
        text = t(
            lang,
            "lifecycle.approval_request",
            name=payload.get("name") or "?",
            organisation=payload.get("organisation") or t(lang, "lifecycle.no_organisation"),
        )
        return Outgoing(
            text,
            (
                Option(t(lang, "lifecycle.approve"), f"approve:{person_id}"),
                Option(t(lang, "lifecycle.reject"), f"reject:{person_id}"),
            ),
            keyword_hint=t(lang, STAFF_ELSEWHERE),
        )
    if kind == Kind.REJECTED:
        return Outgoing(t(lang, "lifecycle.rejected"))
    if kind == Kind.ATTENDANCE_CHECK:
        return await _attendance(lang, payload, ctx)
    if kind == Kind.RECORD_CHECK_LAPSING:
        own = payload.get("person_id") == recipient.person_id
        key = "lifecycle.record_check_yours" if own else "lifecycle.record_check_theirs"
        until = str(payload.get("until") or "")
        return Outgoing(t(lang, key, name=payload.get("name") or "?", until=until))
    return await _approved(lang, payload, ctx)


async def _attendance(lang: str, payload: dict[str, Any], ctx: Context) -> Outgoing:
    shift_id = payload.get("shift_id")
    details = await shift_details(ctx, int(shift_id)) if shift_id else None
    if details is None:
        return Outgoing(t(lang, "notify.generic"))
    text = t(lang, "lifecycle.attendance_check", when=_when(lang, details, ctx), area=details.area)
    mark = Option(t(lang, "lifecycle.attendance_mark"), f"att:{shift_id}")
    return Outgoing(text, (mark,), keyword_hint=t(lang, STAFF_ELSEWHERE))


def _when(lang: str, details: ShiftDetails, ctx: Context) -> str:
    local = details.shift.start_at.astimezone(ctx.zone)
    end = details.shift.end_at.astimezone(ctx.zone)
    return t(
        lang,
        "notify.when",
        day=f"{t(lang, f'notify.weekday.{local.weekday()}')} {local.day}/{local.month}",
        start=f"{local:%H:%M}",
        end=f"{end:%H:%M}",
    )


async def _approved(lang: str, payload: dict[str, Any], ctx: Context) -> Outgoing:
    shift_id = payload.get("shift_id")
    details = await shift_details(ctx, int(shift_id)) if shift_id else None
    if details is None:
        return Outgoing(t(lang, "lifecycle.approved"))
    when = _when(lang, details, ctx)
    outcome = str(payload.get("outcome") or "")
    key = outcome if outcome in ("confirmed", "waitlisted") else "closed"
    text = t(lang, f"lifecycle.approved_{key}", when=when, area=details.area)
    if key == "closed":
        return Outgoing(text)
    return Outgoing(text, (Option(t(lang, "notify.option.cancel"), f"cancel:{shift_id}"),))
