"""/radera's question: its "Ja, radera mig" erases only while the question is open.

An erasure cannot be undone, so an old button must not do it: the yes works only within a few
minutes of the question, and not after "Nej" or another command (found by review 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.dialogue.engine import Dialogue
from bot.dialogue.volunteer import DELETE_QUESTION_VALID
from models.tables import Person
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from tests.fakes.chat import Chat
from tests.world import make_world


async def _walker_chat(ctx: Context) -> tuple[Chat, int]:
    world = await make_world(ctx, walkers=1)
    me = world.walkers[0]
    assert me.id is not None
    return Chat(Dialogue(ctx), address=str(me.telegram_id), telegram_id=me.telegram_id), me.id


async def _erased(ctx: Context, person_id: int) -> bool:
    async with ctx.store.transaction() as session:
        row = await session.get(Person, person_id)
    return row is None or row.erased_at is not None


async def test_the_yes_of_a_question_answered_no_never_erases(
    ctx: Context, clock: ManualClock
) -> None:
    """"Nej", then weeks later the old "Ja, radera mig" of the same message: nothing is erased,
    the person is told the question no longer applies."""
    chat, person_id = await _walker_chat(ctx)
    await chat.command("delete")
    yes = chat.action_of("Ja, radera")
    assert "Inget raderades" in await chat.act("del:no")
    assert all(reply.edit_key == "del" for reply in chat.replies)  # the question is replaced
    clock.set(ctx.now() + timedelta(days=30))
    await chat.command("my")
    assert "gäller inte längre" in await chat.act(yes)
    assert not await _erased(ctx, person_id)


@pytest.mark.parametrize("between", ["another command", "too long"])
async def test_the_yes_is_stale_after_another_command_or_too_long(
    ctx: Context, clock: ManualClock, between: str
) -> None:
    """The question is over once the person moved on to another command, or after
    ``DELETE_QUESTION_VALID`` (10 minutes) without an answer."""
    chat, person_id = await _walker_chat(ctx)
    await chat.command("delete")
    yes = chat.action_of("Ja, radera")
    if between == "another command":
        await chat.command("shifts")
    else:
        clock.set(ctx.now() + DELETE_QUESTION_VALID + timedelta(seconds=1))
    assert "gäller inte längre" in await chat.act(yes)
    assert not await _erased(ctx, person_id)


async def test_the_yes_of_an_open_question_erases(ctx: Context, clock: ManualClock) -> None:
    """Within the ten minutes the yes erases, replacing the question in place."""
    chat, person_id = await _walker_chat(ctx)
    await chat.command("delete")
    clock.set(ctx.now() + DELETE_QUESTION_VALID - timedelta(seconds=1))
    assert "raderade" in await chat.tap("Ja, radera")
    assert chat.replies[0].edit_key == "del"
    assert await _erased(ctx, person_id)
