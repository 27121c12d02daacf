"""A turn is one unit of the store: use cases inside it are savepoints, refusals are audited
whatever happens, and a failed turn leaves nothing behind (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import bindparam, update
from sqlmodel import col, select

from bot.dialogue.engine import Dialogue
from bot.i18n import t
from models.db import Store
from models.tables import AuditEntry, Conversation, Organisation, ShiftStatus, Signup
from models.writes import write_rows
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.people import directory
from scheduling.people.access import Actor
from scheduling.walks import shifts, signups
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, add_people, add_shift, seed_org_area
from tests.test_dialogue import register


async def _org_names(ctx: Context) -> list[str]:
    async with ctx.store.sessions() as session:
        return sorted((await session.exec(select(Organisation.name))).all())


async def _refusals(ctx: Context) -> list[str]:
    async with ctx.store.sessions() as session:
        entries = await session.exec(
            select(AuditEntry).where(col(AuditEntry.outcome) == "refused")
        )
        return [entry.action for entry in entries.all()]


async def test_a_failed_use_case_undoes_only_its_own_writes(ctx: Context) -> None:
    async with ctx.store.unit():
        await directory.add_organisation(ctx, OPERATOR, "IFK Kalmar")
        with pytest.raises(DomainError):
            async with ctx.store.transaction():
                await directory.add_organisation(ctx, OPERATOR, "Halvfärdig")
                raise DomainError("shift_cancelled", shift=1)
        await directory.add_organisation(ctx, OPERATOR, "Kalmar City")
    assert await _org_names(ctx) == ["IFK Kalmar", "Kalmar City"]


async def test_a_failed_unit_stores_nothing_but_its_refusals(ctx: Context) -> None:
    volunteer = Actor(person_id=None, role="volunteer", organisation_id=None, label="V")
    with pytest.raises(RuntimeError):
        async with ctx.store.unit():
            await directory.add_organisation(ctx, OPERATOR, "IFK Kalmar")
            with pytest.raises(PermissionDenied):
                await directory.add_organisation(ctx, volunteer, "Egen förening")
            raise RuntimeError("the turn fails after the refusal")
    assert await _org_names(ctx) == []
    assert await _refusals(ctx) == ["orgs.add"]


async def test_a_refusal_inside_a_use_case_is_audited_when_the_unit_commits(ctx: Context) -> None:
    volunteer = Actor(person_id=None, role="volunteer", organisation_id=None, label="V")
    async with ctx.store.unit():
        with pytest.raises(PermissionDenied):
            async with ctx.store.transaction():
                await directory.add_organisation(ctx, volunteer, "Egen förening")
    assert await _refusals(ctx) == ["orgs.add"]


async def test_other_tasks_do_not_join_a_unit(ctx: Context) -> None:
    seen: dict[str, bool] = {}

    async def look() -> None:
        seen["child"] = ctx.store.in_unit

    async with ctx.store.unit():
        seen["own"] = ctx.store.in_unit
        await asyncio.create_task(look())
    seen["after"] = ctx.store.in_unit
    assert seen == {"own": True, "child": False, "after": False}


async def test_a_turn_that_cannot_be_saved_keeps_nothing_and_apologises(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sign-up and the conversation's state commit together: when saving fails, the
    person is told so and no seat is taken."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    chat = Chat(Dialogue(ctx))
    await register(chat)
    await chat.command("start", f"pass_{shift.id}")
    assert "Anmäl mig" in chat.labels

    async def broken_save(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Dialogue, "_save", broken_save)
    answer = await chat.tap("Anmäl mig")
    assert answer == t("sv", "common.sorry")
    async with ctx.store.sessions() as session:
        assert (await session.exec(select(Signup))).all() == []
    monkeypatch.undo()
    await chat.command("start", f"pass_{shift.id}")
    assert "anmäld" in await chat.tap("Anmäl mig")


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_decision_under_the_lock_reads_afresh_within_a_unit(ctx: Context) -> None:
    """A turn's session may hold a shift loaded before another connection cancelled it: the
    sign-up, deciding under the shift's lock, sees the cancellation. (PostgreSQL only: on
    SQLite the unit holds the only write lock, so nobody can change the shift meanwhile.)"""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    (walker,) = await add_people(ctx, 1, org=org)
    other = Store.open(ctx.settings.database.url)
    try:
        async with ctx.store.unit() as session:
            seen = await shifts.get_shift(session, shift.id or 0)  # now in the unit's session
            assert seen.status == ShiftStatus.PLANNED
            async with other.transaction() as elsewhere:
                changed = await shifts.get_shift(elsewhere, shift.id or 0)
                changed.status = ShiftStatus.CANCELLED
                elsewhere.add(changed)
            with pytest.raises(DomainError, match="shift_cancelled"):
                await signups.sign_up(ctx, walker.id or 0, shift.id or 0)
    finally:
        await other.close()
    async with ctx.store.sessions() as session:
        assert (await session.exec(select(Signup))).all() == []


async def test_write_rows_runs_after_what_the_session_holds_unwritten(ctx: Context) -> None:
    """`write_rows` (the conversation's save) counts the rows it changed, and runs after the
    turn's pending ORM writes, as Session.execute would: an UPDATE of a row the turn deleted
    changes nothing, so the dialogue writes the row anew."""
    now = ctx.now()
    async with ctx.store.unit() as session:
        kept = Conversation(channel="console", address="Kvar", data={}, updated_at=now)
        gone = Conversation(channel="console", address="Borta", data={}, updated_at=now)
        session.add_all([kept, gone])
        await session.flush()
        await session.delete(gone)  # pending: not flushed yet
        kept.flow = "report"  # pending too, and not what the UPDATE below is about
        rename = (
            update(Conversation)
            .where(col(Conversation.id) == bindparam("conversation_id"))
            .values(step=bindparam("new_step"))
        )
        assert await write_rows(session, rename, {"conversation_id": kept.id, "new_step": "2"}) == 1
        assert await write_rows(session, rename, {"conversation_id": gone.id, "new_step": "2"}) == 0
    async with ctx.store.sessions() as session:
        rows = (await session.exec(select(Conversation))).all()
    assert [(c.address, c.flow, c.step) for c in rows] == [("Kvar", "report", "2")]
