"""Staff move a follow-up along (open, in progress, handled) and keep a short note on it.
Only the coordinator or a lead of the report's organisation may; every change is audited
(without the note's words). The note is cleaned, masked and capped exactly like a report's
summary, and blanked with report text by retention."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models.tables import FollowUp, FollowUpStatus
from scheduling.common.context import Context
from scheduling.common.errors import InvalidInput, NotFound
from scheduling.common.masking import MaskResult, mask_summary
from scheduling.common.text import clean_text
from scheduling.people.access import Actor, audit, require_manager

NOTE_MAX = 280  # like a report's summary


async def set_status(ctx: Context, actor: Actor, follow_up_id: int, status: str) -> FollowUp:
    """Move the follow-up to ``status``, noting who did it and when."""
    if status not in FollowUpStatus.ALL:
        raise InvalidInput("bad_follow_up_status", status=status[:20])
    now = ctx.now()
    await _require_manager(ctx, actor, follow_up_id, "followups.update")
    async with ctx.store.transaction() as session:
        follow_up = await _locked(session, follow_up_id)
        follow_up.status = status
        _changed(follow_up, actor, now)
        audit(session, actor, "followups.update", now, target=f"follow_up:{follow_up_id}",
              status=status)
        return follow_up


async def set_note(ctx: Context, actor: Actor, follow_up_id: int, text: str) -> MaskResult:
    """Keep a short note (masked: personal identity numbers, phone numbers, e-mail
    addresses); the result says what was masked."""
    cleaned = clean_text(text, field="note", max_length=4000, multiline=True)
    masked = mask_summary(cleaned, NOTE_MAX)
    now = ctx.now()
    await _require_manager(ctx, actor, follow_up_id, "followups.note")
    async with ctx.store.transaction() as session:
        follow_up = await _locked(session, follow_up_id)
        follow_up.note = masked.text
        _changed(follow_up, actor, now)
        audit(session, actor, "followups.note", now, target=f"follow_up:{follow_up_id}",
              masked=masked.masked)
    return masked


async def _require_manager(ctx: Context, actor: Actor, follow_up_id: int, action: str) -> None:
    """Refuse (audited) anyone who may not manage the follow-up's organisation; checked
    before the change's transaction, as a refusal is written in one of its own."""
    async with ctx.store.transaction() as session:
        follow_up = await session.get(FollowUp, follow_up_id)
        organisation_id = None if follow_up is None else follow_up.organisation_id
    if organisation_id is None and (actor.is_coordinator or actor.is_lead):
        raise NotFound("follow_up", follow_up_id)
    await require_manager(ctx.store, actor, action, organisation_id, ctx.now(),
                          target=f"follow_up:{follow_up_id}")


async def _locked(session: AsyncSession, follow_up_id: int) -> FollowUp:
    follow_up = await session.get(FollowUp, follow_up_id, with_for_update=True)
    if follow_up is None:
        raise NotFound("follow_up", follow_up_id)
    return follow_up


def _changed(follow_up: FollowUp, actor: Actor, now: datetime) -> None:
    """Who changed it (None: the command line) and when; the session writes it back."""
    follow_up.changed_at = now
    follow_up.changed_by = actor.person_id
