"""Tiered payment (``[payments] tiers``): what a walk earns by the walkers present, and why.

Definitions (docs/coordinator.md repeats them):

- **Held within its hours**: at least one confirmed walker checked in between the moment
  check-in opens (the muster, an hour before the start: scheduling/walks/windows.py) and the
  planned end. A check-in after the end does not count.
- **Walkers counted**: the larger of the walkers who checked in within those hours and the
  largest "adult walkers present" in the walk's submitted reports.
- **Report filed**: at least one submitted report.

A walk earns the first tier (largest ``min_walkers`` first) whose minimum the walkers counted
reach, if it is over, not cancelled, held within its hours and reported; else nothing, with
every reason that applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evaluation.walk_facts import Walk
from scheduling.common.config.payments import Tier
from scheduling.walks.windows import CHECK_IN_EARLY

CANCELLED = "cancelled"
NOT_OVER = "not_over"
NOT_IN_HOURS = "not_in_hours"
NO_REPORT = "no_report"
BELOW_TIERS = "below_tiers"


def checked_in_within_hours(walk: Walk) -> int:
    """Confirmed walkers who checked in from the muster (an hour before) to the planned end."""
    opens, ends = walk.shift.start_at - CHECK_IN_EARLY, walk.shift.end_at
    return sum(
        1 for w in walk.walkers if w.checked_in_at is not None and opens <= w.checked_in_at <= ends
    )


def walkers_counted(walk: Walk) -> int:
    reported = [r.walkers_present for r in walk.reports if r.walkers_present is not None]
    return max([checked_in_within_hours(walk), *reported])


def tier_for(walkers: int, tiers: Sequence[Tier]) -> Tier | None:
    """The tier a number of walkers reaches (tiers listed largest first), or None."""
    return next((tier for tier in tiers if walkers >= tier.min_walkers), None)


def tier_reasons(walk: Walk, tiers: Sequence[Tier]) -> tuple[str, ...]:
    """Why a walk earns nothing under the tiers; empty when it earns its tier."""
    if walk.cancelled:
        return (CANCELLED,)
    if not walk.ended:
        return (NOT_OVER,)
    reasons = []
    if checked_in_within_hours(walk) == 0:
        reasons.append(NOT_IN_HOURS)
    if not walk.reports:
        reasons.append(NO_REPORT)
    if tier_for(walkers_counted(walk), tiers) is None:
        reasons.append(BELOW_TIERS)
    return tuple(reasons)


def explanation(
    walk: Walk, tiers: Sequence[Tier], reasons: Sequence[str]
) -> list[tuple[str, dict[str, Any]]]:
    """The reasons as catalogue keys (``coordinator.payment_why.<code>``) and their values:
    which tier was paid and on what count, or each reason it was not."""
    counted = walkers_counted(walk)
    values: dict[str, Any] = {
        "walkers": counted,
        "checked_in": checked_in_within_hours(walk),
        "lowest": tiers[-1].min_walkers if tiers else 0,
    }
    if not reasons:
        tier = tier_for(counted, tiers)
        assert tier is not None
        paid = {**values, "min": tier.min_walkers, "amount": tier.amount}
        return [("coordinator.payment_why.paid", paid)]
    return [(f"coordinator.payment_why.{code}", values) for code in reasons]
