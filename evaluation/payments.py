"""The payment basis (ersättningsunderlag): per organisation and month, the walks that qualify
for payment and those that do not, with why.

A walk qualifies when it was held (evaluation/walk_facts.py), the walkers present were at least the
shift's minimum, and a report was submitted. The month is the local month of the shift's start.
Amounts are ``[payments] rate_per_walk`` × qualifying walks; without a rate there are no amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from evaluation.off_loop import off_loop
from evaluation.walk_facts import Walk, bounded_range, load_walks
from scheduling.common.context import Context
from scheduling.people.access import Actor
from scheduling.people.scope import organisation_scope

# Why a walk does not qualify (catalogue keys coordinator.reason.<code>).
CANCELLED = "cancelled"
NOT_OVER = "not_over"
NOT_HELD = "not_held"
TOO_FEW_WALKERS = "too_few_walkers"
NO_REPORT = "no_report"


def disqualifications(walk: Walk) -> tuple[str, ...]:
    """Why a walk does not qualify for payment; empty when it does."""
    if walk.cancelled:
        return (CANCELLED,)
    if not walk.ended:
        return (NOT_OVER,)
    if not walk.held:
        return (NOT_HELD,)
    reasons = []
    if walk.walkers_present < walk.shift.min_walkers:
        reasons.append(TOO_FEW_WALKERS)
    if not walk.reports:
        reasons.append(NO_REPORT)
    return tuple(reasons)


@dataclass(frozen=True)
class PaymentLine:
    """One walk on the payment basis."""

    walk: Walk
    reasons: tuple[str, ...]

    @property
    def qualifies(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class OrganisationMonth:
    organisation_id: int
    organisation: str
    month: str  # "2026-11", local time
    lines: tuple[PaymentLine, ...]
    rate: Decimal | None

    @property
    def qualifying(self) -> list[PaymentLine]:
        return [line for line in self.lines if line.qualifies]

    @property
    def not_qualifying(self) -> list[PaymentLine]:
        return [line for line in self.lines if not line.qualifies]

    @property
    def amount(self) -> Decimal | None:
        return None if self.rate is None else self.rate * len(self.qualifying)


@dataclass(frozen=True)
class PaymentBasis:
    first_day: date
    last_day: date
    rate: Decimal | None
    months: list[OrganisationMonth]

    @property
    def total(self) -> Decimal | None:
        amounts = [m.amount for m in self.months]
        return None if self.rate is None else sum((a or Decimal(0) for a in amounts), Decimal(0))


def rate_of(ctx: Context) -> Decimal | None:
    """``[payments] rate_per_walk`` as an exact amount, or None when unset."""
    rate = ctx.settings.payments.rate_per_walk
    return None if rate is None else Decimal(str(rate))


def group_by_month(
    walks: Sequence[Walk], zone: ZoneInfo, rate: Decimal | None
) -> list[OrganisationMonth]:
    """Walks grouped per organisation (by name) and local month, each with its reasons."""
    groups: dict[tuple[str, int, str], list[PaymentLine]] = {}
    for walk in walks:
        month = walk.shift.start_at.astimezone(zone).strftime("%Y-%m")
        key = (walk.view.organisation, walk.shift.organisation_id, month)
        groups.setdefault(key, []).append(PaymentLine(walk, disqualifications(walk)))
    return [
        OrganisationMonth(org_id, name, month, tuple(groups[(name, org_id, month)]), rate)
        for name, org_id, month in sorted(groups, key=lambda k: (k[0].casefold(), k[2]))
    ]


async def payment_basis(
    ctx: Context, actor: Actor, first_day: date, last_day: date
) -> PaymentBasis:
    """The payment basis a coordinator (every organisation) or a lead (their own) may see
    (a bounded range, computed off the event loop like the statistics)."""
    bounded_range(ctx, first_day, last_day)
    organisation_id = await organisation_scope(ctx, actor, "payments.view")
    return await off_loop(ctx, payment_basis_for, first_day, last_day, organisation_id)


async def payment_basis_for(
    ctx: Context, first_day: date, last_day: date, organisation_id: int | None = None
) -> PaymentBasis:
    """The payment basis of the range (no permission check)."""
    walks = await load_walks(ctx, first_day, last_day, organisation_id)
    rate = rate_of(ctx)
    return PaymentBasis(first_day, last_day, rate, group_by_month(walks, ctx.zone, rate))
