"""The payment basis (ersättningsunderlag): per organisation and month, the walks that qualify
for payment and those that do not, with why.

Two ways to pay (``[payments]``, scheduling/common/config/payments.py):

- ``rate_per_walk``: a walk qualifies when it was held (evaluation/walk_facts.py), the walkers
  present were at least the shift's minimum, and a report was submitted; amounts are the rate ×
  qualifying walks. Without a rate (and without tiers) there are no amounts.
- ``tiers``: a walk earns the tier its walkers reach, if it was held within its hours and
  reported (evaluation/payment_tiers.py); each line says which tier and why, or why nothing.

The month is the local month of the shift's start; seasons (``season_starts``) group months.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from evaluation.off_loop import off_loop
from evaluation.payment_seasons import season_of_month
from evaluation.payment_tiers import tier_for, tier_reasons, walkers_counted
from evaluation.walk_facts import Walk, bounded_range, load_walks
from scheduling.common.config.payments import Tier
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
    """One walk on the payment basis; under tiers, the tier it earned (None: nothing)."""

    walk: Walk
    reasons: tuple[str, ...]
    tier: Tier | None = None

    @property
    def qualifies(self) -> bool:
        return not self.reasons

    @property
    def tier_amount(self) -> Decimal:
        return Decimal(self.tier.amount) if self.tier is not None and self.qualifies else Decimal(0)


@dataclass(frozen=True)
class OrganisationMonth:
    organisation_id: int
    organisation: str
    month: str  # "2026-11", local time
    lines: tuple[PaymentLine, ...]
    rate: Decimal | None
    tiered: bool = False

    @property
    def qualifying(self) -> list[PaymentLine]:
        return [line for line in self.lines if line.qualifies]

    @property
    def not_qualifying(self) -> list[PaymentLine]:
        return [line for line in self.lines if not line.qualifies]

    @property
    def amount(self) -> Decimal | None:
        if self.tiered:
            return sum((line.tier_amount for line in self.lines), Decimal(0))
        return None if self.rate is None else self.rate * len(self.qualifying)


@dataclass(frozen=True)
class PaymentBasis:
    first_day: date
    last_day: date
    rate: Decimal | None
    months: list[OrganisationMonth]
    tiers: tuple[Tier, ...] = ()
    season_starts: tuple[int, ...] = (1, 7)

    @property
    def with_amounts(self) -> bool:
        return self.rate is not None or bool(self.tiers)

    @property
    def total(self) -> Decimal | None:
        amounts = [m.amount for m in self.months]
        if not self.with_amounts:
            return None
        return sum((a or Decimal(0) for a in amounts), Decimal(0))

    @property
    def seasons(self) -> list[OrganisationMonth]:
        """The months added up per organisation and season (``month`` holds the season)."""
        return by_season(self.months, self.season_starts)


def rate_of(ctx: Context) -> Decimal | None:
    """``[payments] rate_per_walk`` as an exact amount, or None when unset."""
    rate = ctx.settings.payments.rate_per_walk
    return None if rate is None else Decimal(str(rate))


def payment_line(walk: Walk, tiers: Sequence[Tier]) -> PaymentLine:
    """A walk on the basis: under tiers with its tier, else by the old rule."""
    if not tiers:
        return PaymentLine(walk, disqualifications(walk))
    reasons = tier_reasons(walk, tiers)
    return PaymentLine(walk, reasons, None if reasons else tier_for(walkers_counted(walk), tiers))


def group_by_month(
    walks: Sequence[Walk], zone: ZoneInfo, rate: Decimal | None, tiers: Sequence[Tier] = ()
) -> list[OrganisationMonth]:
    """Walks grouped per organisation (by name) and local month, each with its reasons."""
    groups: dict[tuple[str, int, str], list[PaymentLine]] = {}
    for walk in walks:
        month = walk.shift.start_at.astimezone(zone).strftime("%Y-%m")
        key = (walk.view.organisation, walk.shift.organisation_id, month)
        groups.setdefault(key, []).append(payment_line(walk, tiers))
    return [
        OrganisationMonth(
            org_id, name, month, tuple(groups[(name, org_id, month)]), rate, bool(tiers)
        )
        for name, org_id, month in sorted(groups, key=lambda k: (k[0].casefold(), k[2]))
    ]


def by_season(
    months: Sequence[OrganisationMonth], starts: Sequence[int]
) -> list[OrganisationMonth]:
    """Per organisation and season, in the order of the months."""
    groups: dict[tuple[int, str], list[OrganisationMonth]] = {}
    for month in months:
        season = season_of_month(month.month, starts)
        groups.setdefault((month.organisation_id, season), []).append(month)
    return [
        replace(found[0], month=season, lines=tuple(ln for m in found for ln in m.lines))
        for found in groups.values()
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
    rate, settings = rate_of(ctx), ctx.settings.payments
    tiers = tuple(settings.tiers)
    months = group_by_month(walks, ctx.zone, rate, tiers)
    return PaymentBasis(
        first_day, last_day, rate, months, tiers, tuple(settings.season_starts)
    )
