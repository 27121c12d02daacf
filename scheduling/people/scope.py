"""Whose data a coordinator-side view may show: everything, one organisation, or nothing."""

from __future__ import annotations

from scheduling.common.context import Context
from scheduling.people.access import Actor, refuse


async def organisation_scope(ctx: Context, actor: Actor, action: str) -> int | None:
    """``None`` (every organisation) for a coordinator, the lead's own organisation for a lead.

    Anyone else (a volunteer, a lead without an organisation) is refused: PermissionDenied,
    audited.
    """
    if actor.is_coordinator:
        return None
    if actor.is_lead and actor.organisation_id is not None:
        return actor.organisation_id
    raise await refuse(ctx.store, actor, action, ctx.now())
