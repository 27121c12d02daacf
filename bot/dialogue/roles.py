"""The early role checks of the lead and coordinator flows.

Roles are checked by the core use cases (so a refusal is audited whatever the channel); the
dialogue checks early too, with the core's own rules (``organisation_scope``,
``require_shift_manager``), only to avoid asking questions whose answer would be refused. A
refusal raises PermissionDenied, which the dialogue answers politely.
"""

from __future__ import annotations

from bot.dialogue.turn import Turn
from scheduling.people.scope import organisation_scope
from scheduling.walks import cards


async def managed_scope(turn: Turn, action: str) -> int | None:
    """The organisation a lead manages, or None (every one) for a coordinator. Anyone else,
    a lead without an organisation too, is refused: PermissionDenied, audited."""
    return await organisation_scope(turn.ctx, turn.actor, action)


async def require_shift_manager(turn: Turn, shift_id: int, action: str) -> None:
    """Refuse (audited) anyone who may not manage this shift's organisation."""
    await cards.require_shift_manager(turn.ctx, turn.actor, shift_id, action)
