"""``[payments]``: how organisations are paid for walks (evaluation/payments.py).

Either the old single ``rate_per_walk`` (a sum for each qualifying walk), or ``tiers``: a sum
by the number of walkers present, as many kommuner pay (2 000 kr with at least four, 1 500 kr
with three, nothing below). Tiers are whole kronor, listed largest ``min_walkers`` first, and a
tier for more walkers never pays less. ``season_starts`` are the months a payment season
begins (default January and July: spring and autumn).
"""

from __future__ import annotations

from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from scheduling.common.config.base import Section


class Tier(BaseModel):
    """At least ``min_walkers`` present: ``amount`` kronor for the walk."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    min_walkers: StrictInt = Field(ge=1, le=100)
    amount: StrictInt = Field(ge=0, le=10_000_000)


class PaymentSettings(Section):
    rate_per_walk: float | None = Field(default=None, ge=0, le=10_000_000, allow_inf_nan=False)
    tiers: list[Tier] = Field(default_factory=list, max_length=20)
    season_starts: list[StrictInt] = Field(default_factory=lambda: [1, 7], min_length=1)

    @field_validator("tiers")
    @classmethod
    def _sorted(cls, tiers: list[Tier]) -> list[Tier]:
        for higher, lower in pairwise(tiers):
            if higher.min_walkers <= lower.min_walkers:
                raise ValueError(
                    "tiers must be listed largest min_walkers first, each different; got "
                    f"min_walkers = {higher.min_walkers} before {lower.min_walkers}"
                )
            if higher.amount < lower.amount:
                raise ValueError(
                    f"a tier for more walkers must not pay less; got {higher.amount} for "
                    f"{higher.min_walkers} walkers and {lower.amount} for {lower.min_walkers}"
                )
        return tiers

    @field_validator("season_starts")
    @classmethod
    def _months(cls, months: list[int]) -> list[int]:
        if any(not 1 <= m <= 12 for m in months) or months != sorted(set(months)):
            raise ValueError(f"expected months 1-12 in rising order, got {months}")
        return months

    @model_validator(mode="after")
    def _one_way(self) -> PaymentSettings:
        if self.tiers and self.rate_per_walk is not None:
            raise ValueError("set either rate_per_walk or tiers, not both")
        return self
