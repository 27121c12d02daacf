"""Prometheus metrics for ``GET /metrics``, in a registry of vandra's own.

Counters are counted where things happen: the dialogue calls ``update_handled``, and the
dispatcher tells ``DELIVERY`` (a ``DeliveryObserver``, scheduling/messages/observing.py, wired
in bot/bootstrap.py) what became of each message, counted by channel and kind as sent, failed,
retried, expired or duplicate-suspected. They count this process's work. The gauges are
computed from the database at scrape time, so every process of a deployment reports the same
store-wide figures.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from sqlalchemy import func
from sqlmodel import col, select

from models.tables import OutboxMessage, OutboxStatus, ShiftStatus
from scheduling.common.context import Context
from scheduling.messages import observing
from scheduling.messages.kinds import Kind
from scheduling.walks.shifts import shift_views

log = logging.getLogger("vandra.metrics")

disable_created_metrics()  # no *_created series: they double the output and nobody reads them
REGISTRY = CollectorRegistry(auto_describe=True)
CHANNELS = ("telegram", "sms")
KINDS = sorted(v for k, v in vars(Kind).items() if k.isupper() and isinstance(v, str))
CONTENT_TYPE = CONTENT_TYPE_LATEST
STAFFING_WINDOW = timedelta(hours=48)

_updates = Counter(
    "updates_handled", "Inbound updates handled, by channel.", ["channel"], registry=REGISTRY
)
_by = ["channel", "kind"]
_sent = Counter(
    "messages_sent", "Messages delivered, by channel and kind.", _by, registry=REGISTRY
)
_failed = Counter(
    "messages_failed", "Messages given up on, by channel and kind.", _by, registry=REGISTRY
)
_retried = Counter(
    "messages_retried",
    "Send attempts to be retried (on the same channel or another), by channel and kind.",
    _by,
    registry=REGISTRY,
)
_expired = Counter(
    "messages_expired",
    "Messages whose moment passed before they could be sent, by channel and kind.",
    _by,
    registry=REGISTRY,
)
_duplicates = Counter(
    "messages_duplicate_suspected",
    "Messages that may reach their person twice (a stopped sender's claim taken up again, "
    "or a send another process had recorded already), by channel and kind.",
    _by,
    registry=REGISTRY,
)
_BY_EVENT = {
    observing.SENT: _sent,
    observing.FAILED: _failed,
    observing.RETRIED: _retried,
    observing.EXPIRED: _expired,
    observing.DUPLICATE_SUSPECTED: _duplicates,
}
NO_CHANNEL = "none"  # the label of a message no channel was chosen for
_lag = Gauge(
    "outbox_lag_seconds",
    "How long the oldest due, unsent outbox message has been waiting (0 when none).",
    registry=REGISTRY,
)
_understaffed = Gauge(
    "understaffed_shifts_next_48h",
    "Planned shifts starting within 48 hours that are understaffed.",
    registry=REGISTRY,
)
for _channel in CHANNELS:  # every series exists from the start, at 0
    _updates.labels(_channel)
    for _kind in KINDS:
        for _counter in _BY_EVENT.values():
            _counter.labels(_channel, _kind)


def update_handled(channel: str) -> None:
    """One inbound update (a Telegram update, an SMS) was handled."""
    _updates.labels(channel).inc()


def message_sent(channel: str, kind: str) -> None:
    """One outbox message was accepted by the channel's provider."""
    _sent.labels(channel, kind).inc()


def message_failed(channel: str | None, kind: str) -> None:
    """One outbox message failed for good (no more attempts)."""
    _failed.labels(channel or NO_CHANNEL, kind).inc()


def message_retried(channel: str, kind: str) -> None:
    """One send attempt failed and the message will be tried again."""
    _retried.labels(channel, kind).inc()


class DeliveryMetrics:
    """The dispatcher's ``DeliveryObserver``: each outcome counted by channel and kind."""

    def delivery(self, event: str, channel: str | None, kind: str, count: int = 1) -> None:
        _BY_EVENT[event].labels(channel or NO_CHANNEL, kind).inc(count)


DELIVERY = DeliveryMetrics()


async def outbox_lag_seconds(ctx: Context) -> float:
    """Seconds since the oldest pending message became due (its retry time, if it has one)."""
    now = ctx.now()
    pending = col(OutboxMessage.status) == OutboxStatus.PENDING
    retry_at, due_at = col(OutboxMessage.next_attempt_at), col(OutboxMessage.due_at)
    async with ctx.store.transaction() as session:
        first_due = await session.exec(
            select(func.min(due_at)).where(pending, retry_at.is_(None), due_at <= now)
        )
        first_retry = await session.exec(
            select(func.min(retry_at)).where(pending, retry_at.is_not(None), retry_at <= now)
        )
        waiting = [t for t in (first_due.one(), first_retry.one()) if t is not None]
    return (now - min(waiting)).total_seconds() if waiting else 0.0


async def understaffed_shifts_next_48h(ctx: Context) -> int:
    """Planned shifts starting within 48 hours with too few (trained) walkers."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        views = await shift_views(session, ctx, start_from=now, start_before=now + STAFFING_WINDOW)
    return sum(
        1 for v in views if v.shift.status == ShiftStatus.PLANNED and v.staffing == "understaffed"
    )


async def render(ctx: Context) -> bytes:
    """The metrics in Prometheus text format; the gauges read NaN while the store is down."""
    lag: float
    understaffed: float
    try:
        lag, understaffed = await outbox_lag_seconds(ctx), await understaffed_shifts_next_48h(ctx)
    except Exception as exc:
        log.warning("metrics: the store did not answer (%s)", type(exc).__name__)
        lag = understaffed = math.nan
    _lag.set(lag)
    _understaffed.set(understaffed)
    return generate_latest(REGISTRY)
