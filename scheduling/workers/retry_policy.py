"""When a failed attempt is tried again, and when it is the last (docs/delivery.md, "The
dispatcher", step 4)."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.tables import Person
from scheduling.messages.routing import SMS, TELEGRAM
from scheduling.workers.claiming import Claim

BACKOFF_FIRST = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=10)
NO_EXPIRY_CEILING = timedelta(days=7)  # a message that never expires is tried this long
NOT_READY_WAIT = timedelta(seconds=2)  # a channel still starting is asked again after this


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 5 s, 10 s, 20 s, ... at most 10 min."""
    return min(BACKOFF_FIRST * 2 ** max(0, attempts - 1), BACKOFF_CAP)


def mark_unreachable(person: Person, channel: str, reason: str) -> None:
    """Record that ``channel`` will not reach this person (so routing stops choosing it)."""
    if channel == TELEGRAM:
        person.telegram_blocked = True
    elif channel == SMS and reason.startswith("opted_out"):
        person.sms_opted_out = True
    elif channel == SMS:
        person.sms_unreachable = True


def give_up(
    claim: Claim, attempts: int, now: datetime, max_attempts: int, unexpected: bool
) -> str | None:
    """Why a failed attempt is the last, or None: provider troubles never end a message before
    it expires; one that never expires is tried for ``NO_EXPIRY_CEILING`` (7 days)."""
    if unexpected and attempts >= max_attempts:
        return f"gave up after {attempts}"
    started = claim.created_at
    if claim.expires_at is None and started is not None and now - started >= NO_EXPIRY_CEILING:
        return f"gave up after {NO_EXPIRY_CEILING.days} days"
    return None
