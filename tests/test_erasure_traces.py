"""Erasure reaches the copies of a person's data made for others: the alarms they raised and
the messages that name them (found by review 2: an erased walker's alarm kept their words and
position, and the alerts their name and number)."""

from __future__ import annotations

import json

from sqlmodel import col, select

from models.tables import Alarm, OutboxMessage, OutboxStatus, Person
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.messages.announcements import broadcast
from scheduling.messages.audiences import Audience
from scheduling.people.access import Actor
from scheduling.people.erasure import erase_person
from scheduling.people.retention import apply_retention
from scheduling.walks.alarm_changes import acknowledge_alarm
from scheduling.walks.alarms import raise_alarm
from scheduling.walks.approval import request_approval
from tests.test_alarm import on_a_walk
from tests.world import make_world

WORDS = "Kalle Svensson slogs vid bussen"
WHERE = (56.6612, 16.3623)


async def _alarms(ctx: Context) -> list[Alarm]:
    async with ctx.store.transaction() as session:
        return list((await session.exec(select(Alarm))).all())


async def _outbox(ctx: Context) -> list[OutboxMessage]:
    async with ctx.store.transaction() as session:
        return list((await session.exec(select(OutboxMessage))).all())


def _naming(messages: list[OutboxMessage], *needles: str) -> list[str]:
    """The keys of messages whose payload holds any of ``needles``."""
    return [
        m.dedupe_key
        for m in messages
        if any(n in json.dumps(m.payload, ensure_ascii=False) for n in needles)
    ]


async def test_an_erased_walkers_finished_alarm_keeps_only_its_count(
    ctx: Context, clock: ManualClock
) -> None:
    """After an acknowledged alarm the walker is erased: the alarm row stays (the statistics
    count it) without text, position or link, and no alert, sent or not, to anyone still
    holds the walker's name, number, words or position."""
    world, _ = await on_a_walk(ctx, clock)
    raiser = world.walkers[0]
    me = Actor.of(raiser, "telegram")
    raised = await raise_alarm(ctx, me, WORDS, location=WHERE)
    await acknowledge_alarm(ctx, Actor.of(world.coordinator, "telegram"), raised.alarm_id)
    assert _naming(await _outbox(ctx), raiser.name, "56.6612")  # the alerts did name them
    await erase_person(ctx, me, raiser.id or 0)
    [alarm] = await _alarms(ctx)
    assert (alarm.text, alarm.latitude, alarm.longitude, alarm.person_id) == (
        None, None, None, None,
    )
    assert alarm.status == "acknowledged" and alarm.shift_id == raised.shift_id
    assert _naming(await _outbox(ctx), raiser.name, str(raiser.phone), "Kalle", "56.6612") == []


async def test_an_alarm_still_open_keeps_going_until_it_is_over(
    ctx: Context, clock: ManualClock
) -> None:
    """Erased during an open alarm, the walker's alarm still tells people where to go; once it
    is acknowledged the retention run removes the text and position everywhere."""
    world, _ = await on_a_walk(ctx, clock)
    raiser = world.walkers[0]
    me = Actor.of(raiser, "telegram")
    raised = await raise_alarm(ctx, me, WORDS, location=WHERE)
    await erase_person(ctx, me, raiser.id or 0)
    [alarm] = await _alarms(ctx)
    assert alarm.latitude == WHERE[0] and alarm.text == WORDS
    pending_to_others = [
        m for m in await _outbox(ctx)
        if m.status == OutboxStatus.PENDING and m.person_id != raiser.id
    ]
    assert _naming(pending_to_others, "56.6612")  # the alarm in progress still reaches people
    await acknowledge_alarm(ctx, Actor.of(world.coordinator, "telegram"), raised.alarm_id)
    await apply_retention(ctx)
    [alarm] = await _alarms(ctx)
    assert (alarm.text, alarm.latitude, alarm.person_id) == (None, None, None)
    assert _naming(await _outbox(ctx), raiser.name, str(raiser.phone), "Kalle", "56.6612") == []


async def test_messages_naming_the_erased_person_lose_the_name(
    ctx: Context, clock: ManualClock
) -> None:
    """A request to approve them (pending: dropped; sent: without the name) and a broadcast they
    wrote (still delivered, without the author)."""
    world = await make_world(ctx, walkers=2)
    newcomer, author = world.walkers[0], world.coordinator
    async with ctx.store.transaction() as session:
        row = await session.get(Person, newcomer.id)
        assert row is not None
        row.approved_at = None
        session.add(row)
    await request_approval(ctx, newcomer.id or 0)
    async with ctx.store.transaction() as session:
        first = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.dedupe_key).startswith("approval:"))
            )
        ).first()
        assert first is not None
        first.status = OutboxStatus.SENT
        session.add(first)
    await broadcast(ctx, Actor.of(author, "telegram"), "Samling kl 21 vid torget", Audience())
    assert _naming(await _outbox(ctx), newcomer.name) and _naming(await _outbox(ctx), author.name)
    coordinator = Actor.of(author, "telegram")
    await erase_person(ctx, coordinator, newcomer.id or 0)
    await erase_person(ctx, coordinator, author.id or 0)
    left = await _outbox(ctx)
    assert _naming(left, newcomer.name, author.name) == []
    approvals = [m for m in left if m.dedupe_key.startswith("approval:")]
    assert approvals and all(m.status == OutboxStatus.SENT for m in approvals)
    assert [m for m in left if m.dedupe_key.startswith("broadcast:")
            and m.status == OutboxStatus.PENDING and m.person_id != author.id]
