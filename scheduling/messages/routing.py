"""Which channel carries a message to a person: the same rule in Python and in SQL.

The person's preferred channel when it reaches them; else the other one; else none (the
message fails as ``unreachable`` and the coordinator sees it in ``vandra outbox list``).
A message may be pinned to one channel (``only_channel``: an alarm goes by Telegram and by SMS,
one row each, whatever the person prefers); such a row goes by that channel while it reaches
the person, else nowhere. Telegram reaches a person with a Telegram id who has not blocked the
bot; SMS one with a phone who has not opted out (STOPP) and whose number has not failed for
good. The dispatcher claims rows per channel with ``claimable_by`` (``route_is`` for rows not
pinned), so the rule decides in the query what each sender gets.
"""

from __future__ import annotations

from sqlalchemy import and_, false, not_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from models.tables import OutboxMessage, Person

TELEGRAM = "telegram"
SMS = "sms"
CHANNELS = (TELEGRAM, SMS)


def telegram_reachable(person: Person) -> bool:
    return person.telegram_id is not None and not person.telegram_blocked


def sms_reachable(person: Person) -> bool:
    return person.phone is not None and not person.sms_opted_out and not person.sms_unreachable


def route(person: Person | None) -> str | None:
    """The channel for a message to this person now, or None when nothing reaches them."""
    if person is None or person.erased_at is not None:
        return None
    telegram, sms = telegram_reachable(person), sms_reachable(person)
    if sms and (person.preferred_channel == SMS or not telegram):
        return SMS
    if telegram:
        return TELEGRAM
    return None


def _telegram_ok() -> ColumnElement[bool]:
    return and_(col(Person.telegram_id).is_not(None), not_(col(Person.telegram_blocked)))


def _sms_ok() -> ColumnElement[bool]:
    return and_(
        col(Person.phone).is_not(None),
        not_(col(Person.sms_opted_out)),
        not_(col(Person.sms_unreachable)),
    )


def route_is(channel: str | None) -> ColumnElement[bool]:
    """A condition on the ``person`` row: ``route(person) == channel`` (None: unreachable)."""
    alive = col(Person.erased_at).is_(None)
    to_sms = and_(alive, _sms_ok(), or_(col(Person.preferred_channel) == SMS, not_(_telegram_ok())))
    to_telegram = and_(alive, _telegram_ok(), not_(to_sms))
    if channel == SMS:
        return to_sms
    if channel == TELEGRAM:
        return to_telegram
    if channel is None:
        return and_(not_(to_sms), not_(to_telegram))
    return false()


def _reaches(channel: str) -> ColumnElement[bool]:
    alive = col(Person.erased_at).is_(None)
    if channel == SMS:
        return and_(alive, _sms_ok())
    if channel == TELEGRAM:
        return and_(alive, _telegram_ok())
    return false()


def claimable_by(channel: str) -> ColumnElement[bool]:
    """A condition on the ``outbox`` and ``person`` rows: ``channel`` carries this message."""
    pinned = col(OutboxMessage.only_channel)
    return or_(
        and_(pinned.is_(None), route_is(channel)),
        and_(pinned == channel, _reaches(channel)),
    )


def reaches_nobody() -> ColumnElement[bool]:
    """A condition on the ``outbox`` and ``person`` rows: no channel carries this message."""
    pinned = col(OutboxMessage.only_channel)
    return or_(
        and_(pinned.is_(None), route_is(None)),
        and_(pinned == SMS, not_(_reaches(SMS))),
        and_(pinned == TELEGRAM, not_(_reaches(TELEGRAM))),
        and_(pinned.is_not(None), pinned.not_in(CHANNELS)),
    )
