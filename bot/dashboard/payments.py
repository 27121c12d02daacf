"""The payment basis on the monthly summary: the month per organisation and, under tiers,
each night with its tier and why, and the season so far."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from bot.dashboard.web import Site, Viewer
from bot.i18n import t
from evaluation import payments
from evaluation.exports.payment_tiers import tier_label, why
from evaluation.payment_seasons import season_first_day


async def payment_values(site: Site, viewer: Viewer, first: date, last: date) -> dict[str, Any]:
    """What summary.html shows of payments for the month ``first``..``last``."""
    basis = await payments.payment_basis(site.ctx, viewer.actor, first, last)
    values: dict[str, Any] = {"basis": basis, "season_basis": None, "zone": site.ctx.zone}
    if basis.tiers:
        texts = partial(t, viewer.language)
        start = season_first_day(first, basis.season_starts)
        values["season_basis"] = await payments.payment_basis(
            site.ctx, viewer.actor, start, last
        )
        values["why"] = lambda line: why(basis, line, texts)
        values["tier_label"] = lambda line: tier_label(line, texts) or ""
    return values
