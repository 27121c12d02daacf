"""Confirming an irreversible or safety-relevant SMS action with a one-time code.

The first ask (``RADERA``) texts a code to the number, which reaches its real owner even when
the sender's number was forged; only the same ask with the code (``RADERA 4821``) goes on, as
an actor marked ``confirmed`` (``scheduling.people.access.Actor``). Without it nothing happens.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.dialogue.turn import Turn
from scheduling.people.access import Actor
from scheduling.people.confirmations import issue_code, use_code


async def confirmed_actor(
    turn: Turn, purpose: str, code: str | None, ask: str, again: str, **params: Any
) -> Actor | None:
    """The turn's actor, confirmed, when ``code`` is the person's live code for ``purpose``.
    Else None, having texted a new code (``ask``, when no code came) or said why not
    (``again`` is what to send for a new code)."""
    code = (code or "").strip()
    if not code:
        issued = await issue_code(turn.ctx, turn.person_id, purpose)
        if issued is None:
            turn.say("sms.code_limit")
        else:
            turn.say(ask, code=issued, **params)
        return None
    checked = await use_code(turn.ctx, turn.person_id, purpose, code)
    if checked == "ok":
        return replace(turn.actor, confirmed=True)
    turn.say("sms.code_wrong" if checked == "wrong" else "sms.code_none", again=again)
    return None
