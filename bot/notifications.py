"""The words of every outbox message: the dispatcher's ``Renderer``, Swedish first.

``NotificationRenderer()(kind, payload, recipient, ctx)`` turns a queued message into an
``Outgoing`` in the recipient's language (``bot/locales/<lang>/notifications.toml``): local
time (``[scheduling] timezone``), the meeting point, whom to call (lead or coordinator) and the
one-tap options. Option actions are the ones the channels answer to:

``signup:<shift>`` sign up / confirm an offered seat / take a freed seat; ``cancel:<shift>``
cancel one's sign-up; ``checkin:<shift>``; ``report:<shift>``; ``replace:<shift>`` find a
replacement after a late cancellation; ``keep:<shift>`` / ``cancelshift:<shift>`` the final
staffing check; ``ack:ref:<ref>`` acknowledge a safety alert (by its random reference).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.alarm_texts import render_alarm
from bot.followup_texts import KINDS as FOLLOW_UP_KINDS
from bot.followup_texts import render_follow_up
from bot.i18n import t
from bot.morning_texts import render_morning
from bot.notifications_lifecycle import KINDS as LIFECYCLE_KINDS
from bot.notifications_lifecycle import render_lifecycle
from bot.notifications_nights import KINDS as NIGHT_KINDS
from bot.notifications_nights import render_nights
from bot.notifications_plan import render_change
from bot.street_texts import render_street
from scheduling.common.context import Context
from scheduling.messages.content import Option, Outgoing, Recipient
from scheduling.messages.kinds import ALARM_KINDS, STREET_KINDS, Kind
from scheduling.walks.details import ShiftDetails, person_name, shift_details, walkers_still_out
from scheduling.walks.group_lead import group_lead_of
from scheduling.walks.safety import SAFETY_REPEAT


@dataclass(frozen=True)
class Words:
    """Texts in one language, with times shown in the local zone."""

    language: str
    zone: ZoneInfo

    def __call__(self, key: str, **values: Any) -> str:
        return t(self.language, f"notify.{key}", **values)

    def clock(self, moment: datetime) -> str:
        return f"{moment.astimezone(self.zone):%H:%M}"

    def day(self, moment: datetime) -> str:
        local = moment.astimezone(self.zone)
        weekday = self(f"weekday.{local.weekday()}")
        return f"{weekday} {local.day}/{local.month}"

    def when(self, details: ShiftDetails) -> str:
        shift = details.shift
        return self(
            "when",
            day=self.day(shift.start_at),
            start=self.clock(shift.start_at),
            end=self.clock(shift.end_at),
        )

    def option(self, label: str, action: str) -> Option:
        return Option(self(f"option.{label}"), action)


Builder = Callable[[Words, dict[str, Any], ShiftDetails, Context], Awaitable[Outgoing]]


def _facts(words: Words, details: ShiftDetails) -> dict[str, str]:
    """The values most texts fill in."""
    return {"when": words.when(details), "area": details.area, "organisation": details.organisation}


def _where(words: Words, details: ShiftDetails) -> str:
    point = details.meeting_point or details.area
    return words("where", meeting_point=point)


def _who_to_call(words: Words, details: ShiftDetails) -> str:
    contact = details.contact
    if contact is None:
        return ""
    role = words(f"role_{contact.role}")
    if contact.phone:
        return words("contact", role=role, name=contact.name, phone=contact.phone)
    return words("contact_no_phone", role=role, name=contact.name)


def _lines(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


async def _reminder(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    lead = await group_lead_of(ctx, d.shift.id or 0)
    text = _lines(
        words("reminder", **_facts(words, d)),
        _where(words, d),
        words("alarm.group_lead", name=lead.name) if lead is not None else "",
        _who_to_call(words, d),
    )
    return Outgoing(text, (words.option("cancel", f"cancel:{d.shift.id}"),))


async def _call(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    text = _lines(
        words(
            "call_for_walkers",
            confirmed=p.get("confirmed", 0),
            min_walkers=p.get("min_walkers", d.shift.min_walkers),
            **_facts(words, d),
        ),
        _where(words, d),
        _who_to_call(words, d),
    )
    return Outgoing(text, (words.option("signup", f"signup:{d.shift.id}"),))


async def _notice(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    text = words(
        "staffing_notice",
        confirmed=p.get("confirmed", 0),
        min_walkers=p.get("min_walkers", d.shift.min_walkers),
        trained=p.get("trained", 0),
        trained_required=p.get("trained_required", 0),
        called=p.get("called", 0),
        **_facts(words, d),
    )
    return Outgoing(text)


async def _final_check(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    text = words(
        "final_check",
        confirmed=p.get("confirmed", 0),
        min_walkers=p.get("min_walkers", d.shift.min_walkers),
        **_facts(words, d),
    )
    options = (
        words.option("keep", f"keep:{d.shift.id}"),
        words.option("cancel_shift", f"cancelshift:{d.shift.id}"),
    )
    return Outgoing(text, options, keyword_hint=words("staff_elsewhere_sms"))


async def _check_in(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    text = _lines(
        words("check_in_prompt", **_facts(words, d)), _where(words, d), _who_to_call(words, d)
    )
    return Outgoing(text, (words.option("check_in", f"checkin:{d.shift.id}"),))


async def _report(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    text = words("report_prompt", **_facts(words, d))
    return Outgoing(text, (words.option("report", f"report:{d.shift.id}"),))


async def _safety(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    repetition = int(p.get("repetition", 0))
    overdue = ctx.settings.reminders.checkout_overdue_after + repetition * SAFETY_REPEAT
    walkers = await walkers_still_out(ctx, d.shift.id or 0)
    listed = ", ".join(f"{w.name} {w.phone}" if w.phone else w.name for w in walkers)
    text = _lines(
        words(
            "safety_alert",
            minutes=int(overdue.total_seconds() // 60),
            repetition=repetition + 1,
            **_facts(words, d),
        ),
        words("safety_walkers", walkers=listed) if listed else "",
        words("emergency"),
    )
    ref = p.get("alert_ref")  # texts name an alert by its random reference, never its id
    action = f"ack:ref:{ref}" if ref else f"ack:alert:{p.get('alert_id')}"
    return Outgoing(text, (words.option("acknowledge", action),))


async def _safety_ack(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    name = await person_name(ctx, p.get("by_person_id")) or words("someone")
    return Outgoing(words("safety_acknowledged", name=name, **_facts(words, d)))


async def _replace_prompt(
    words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context
) -> Outgoing:
    text = words("replace_prompt", **_facts(words, d))
    return Outgoing(text, (words.option("replace", f"replace:{d.shift.id}"),))


async def _replacement(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    text = _lines(
        words("replacement_offer", **_facts(words, d)), _where(words, d), _who_to_call(words, d)
    )
    return Outgoing(text, (words.option("take_seat", f"signup:{d.shift.id}"),))


async def _promoted(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    shift_id = d.shift.id
    if p.get("needs_confirmation") and p.get("confirm_by"):
        deadline = datetime.fromisoformat(str(p["confirm_by"]))
        by = f"{words.day(deadline)} {words.clock(deadline)}"
        text = _lines(
            words("promoted_confirm", confirm_by=by, **_facts(words, d)), _where(words, d)
        )
        options = (
            words.option("confirm", f"signup:{shift_id}"),
            words.option("decline", f"cancel:{shift_id}"),
        )
        return Outgoing(text, options)
    text = _lines(
        words("promoted_confirmed", **_facts(words, d)), _where(words, d), _who_to_call(words, d)
    )
    return Outgoing(text, (words.option("cancel", f"cancel:{shift_id}"),))


async def _offer_expired(
    words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context
) -> Outgoing:
    return Outgoing(words("offer_expired", **_facts(words, d)))


async def _cancelled(words: Words, p: dict[str, Any], d: ShiftDetails, ctx: Context) -> Outgoing:
    reason = p.get("reason")
    if reason:
        return Outgoing(words("shift_cancelled_reason", reason=reason, **_facts(words, d)))
    return Outgoing(words("shift_cancelled", **_facts(words, d)))


ABOUT_A_SHIFT: dict[str, Builder] = {
    Kind.REMINDER: _reminder,
    Kind.CALL_FOR_WALKERS: _call,
    Kind.STAFFING_NOTICE: _notice,
    Kind.FINAL_CHECK: _final_check,
    Kind.CHECK_IN_PROMPT: _check_in,
    Kind.REPORT_PROMPT: _report,
    Kind.SAFETY_ALERT: _safety,
    Kind.SAFETY_ACKNOWLEDGED: _safety_ack,
    Kind.REPLACE_PROMPT: _replace_prompt,
    Kind.REPLACEMENT_OFFER: _replacement,
    Kind.PROMOTED: _promoted,
    Kind.OFFER_EXPIRED: _offer_expired,
    Kind.SHIFT_CANCELLED: _cancelled,
}


class NotificationRenderer:
    """The real ``Renderer``: one text per kind, in the recipient's language."""

    async def __call__(
        self, kind: str, payload: dict[str, Any], recipient: Recipient, ctx: Context
    ) -> Outgoing:
        words = Words(recipient.language, ctx.zone)
        if kind in ALARM_KINDS:
            return render_alarm(kind, payload, recipient, ctx)
        if kind == Kind.BROADCAST:
            return _broadcast(words, payload)
        if kind == Kind.SHIFT_CHANGED:
            return render_change(payload, recipient, ctx.zone)
        if kind == Kind.SMS_UNREACHABLE:
            return Outgoing(words("sms_unreachable", name=str(payload.get("name") or "?")))
        if kind in NIGHT_KINDS:
            return render_nights(kind, payload, recipient, ctx)
        if kind in LIFECYCLE_KINDS:
            return await render_lifecycle(kind, payload, recipient, ctx)
        if kind in STREET_KINDS:
            return await render_street(kind, payload, recipient, ctx)
        if kind == Kind.INACTIVITY_NOTICE:
            return Outgoing(t(recipient.language, "privacy.inactivity_notice",
                              days=payload.get("days", ""), date=payload.get("date", "")))
        if kind in FOLLOW_UP_KINDS:
            return await render_follow_up(kind, payload, recipient, ctx)
        if kind == Kind.MORNING_PICTURE:
            return render_morning(payload, recipient, ctx)
        builder = ABOUT_A_SHIFT.get(kind)
        details = await _details(ctx, payload)
        if builder is None or details is None:
            return Outgoing(str(payload.get("text") or words("generic")))
        return await builder(words, payload, details, ctx)


async def _details(ctx: Context, payload: dict[str, Any]) -> ShiftDetails | None:
    shift_id = payload.get("shift_id")
    return await shift_details(ctx, int(shift_id)) if shift_id else None


def _broadcast(words: Words, payload: dict[str, Any]) -> Outgoing:
    """An announcement, with the way to turn them off (a button; by SMS a keyword)."""
    author = payload.get("author")
    text = str(payload.get("text") or "")
    said = words("broadcast_from", author=author, text=text) if author else words(
        "broadcast", text=text
    )
    off = Option(t(words.language, "plan.announce.off_button"), "ann:off")
    return Outgoing(said, (off,), keyword_hint=t(words.language, "plan.announce.off_sms"))
