"""What becomes of each outbox message, told to whoever counts it (the metrics, bot/metrics.py).

The dispatcher reports every outcome it records, by the channel and the kind of message:
``sent`` (the provider accepted it), ``retried`` (an attempt failed, or the channel would not
do and another is tried), ``failed`` (given up on), ``expired`` (its moment passed unsent) and
``duplicate_suspected`` (it may reach the person twice: a claim whose holder stopped is taken
up again, or a send was recorded already by another process). The core knows only this
protocol; the outer shell hands in what implements it (bot/bootstrap.py).
"""

from __future__ import annotations

from typing import Protocol

SENT = "sent"
RETRIED = "retried"
FAILED = "failed"
EXPIRED = "expired"
DUPLICATE_SUSPECTED = "duplicate_suspected"
EVENTS = (SENT, RETRIED, FAILED, EXPIRED, DUPLICATE_SUSPECTED)
# what a claim's outcome (scheduling/workers/sending.py) counts as; ``released`` counts nothing
OF_OUTCOME = {"sent": SENT, "retried": RETRIED, "rerouted": RETRIED, "failed": FAILED}


class DeliveryObserver(Protocol):
    def delivery(self, event: str, channel: str | None, kind: str, count: int = 1) -> None:
        """``count`` messages of ``kind`` had ``event`` on ``channel`` (None: none chosen)."""


class Unobserved:
    """Counts nothing: the default where nobody watches (tests, tools)."""

    def delivery(self, event: str, channel: str | None, kind: str, count: int = 1) -> None:
        return None


UNOBSERVED: DeliveryObserver = Unobserved()
