"""Privacy texts in the person's language: the short notice, what was masked, my data."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import t
from scheduling.common.context import Context
from scheduling.people.privacy import export_my_data, summarise_export


def short_notice(language: str | None, url: str) -> str:
    """The 2-3 sentence notice shown at registration, linking to the full one."""
    return t(language, "privacy.short_notice", url=url)


def masked_notice(language: str | None, kinds: Sequence[str]) -> str:
    """Tells a reporter what was masked (``kinds`` from ``MaskResult.masked``); "" for none."""
    if not kinds:
        return ""
    names = ", ".join(t(language, f"privacy.kind.{kind}") for kind in kinds)
    return t(language, "privacy.masked_notice", kinds=names)


async def my_data_summary(ctx: Context, person_id: int, language: str | None = None) -> str:
    """A short reply for ``MINA DATA``: what is stored, and how to get all of it."""
    data = await export_my_data(ctx, person_id)
    summary = summarise_export(data)
    return t(
        language or data["person"]["language"],
        "privacy.my_data_summary",
        name=summary.name,
        signups=summary.signups,
        upcoming=summary.upcoming,
        reports=summary.reports,
        messages=summary.messages,
    )
