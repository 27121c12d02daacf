"""The dispatcher: channel choice, retries, fall-back, expiry, crashed claims, two workers."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import Store
from models.tables import OutboxMessage, OutboxStatus, Person
from scheduling.common.clock import ManualClock
from scheduling.common.config import DispatchSettings
from scheduling.common.context import Context
from scheduling.messages.broadcast import Audience, broadcast
from scheduling.messages.content import Delivery, Outgoing, Recipient, TransientSendError
from scheduling.messages.due import compute_due
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.people.access import Actor
from scheduling.walks import signups
from scheduling.walks.safety import acknowledge_alert, open_alerts
from scheduling.workers import claiming, outcomes
from scheduling.workers.dispatcher import Dispatcher
from scheduling.workers.limits import ChannelLimits
from scheduling.workers.outcomes import backoff
from tests.fakes.senders import FakeTime, RecordingSender, plain_renderer
from tests.helpers import OPERATOR
from tests.race import Gate
from tests.world import make_world, outbox, person, shift_at

FAST = {"telegram": ChannelLimits(1000.0, None), "sms": ChannelLimits(1000.0)}


def dispatcher(
    ctx: Context, clock: ManualClock, *senders: RecordingSender, **options: object
) -> Dispatcher:
    """A dispatcher on fake limiter time, with the given fake channels."""
    fake = FakeTime(clock)
    kwargs: dict[str, object] = {"limits": FAST, "monotonic": fake.monotonic, "sleep": fake.sleep}
    kwargs.update(options)
    return Dispatcher(ctx, {s.channel: s for s in senders}, plain_renderer, **kwargs)  # type: ignore[arg-type]


async def queue(ctx: Context, person_id: int, key: str = "test:1", **fields: object) -> None:
    async with ctx.store.transaction() as session:
        message = NewMessage(
            key=key,
            kind="broadcast",
            person_id=person_id,
            due_at=ctx.now(),
            payload={"text": "hej"},
        )
        await enqueue_many(session, [dataclasses.replace(message, **fields)], ctx.now())  # type: ignore[arg-type]


async def test_each_person_gets_it_on_their_preferred_channel(
    ctx: Context, clock: ManualClock
) -> None:
    """Telegram people by Telegram, SMS people by SMS; sent_at, channel and provider id kept."""
    telegram, sms = RecordingSender("telegram"), RecordingSender("sms")
    by_telegram = await person(ctx, "Tg", telegram_id=11, phone="0703333301")
    by_sms = await person(ctx, "Sms", phone="0703333302")
    sent = await broadcast(ctx, OPERATOR, "Passet flyttas till Larmtorget.", Audience())
    assert sent.recipients == 2
    report = await dispatcher(ctx, clock, telegram, sms).dispatch_once()
    assert report.sent == 2
    telegram.assert_sent_once_each([by_telegram.id or 0])
    sms.assert_sent_once_each([by_sms.id or 0])
    assert sms.sent[0].recipient.phone == "+46703333302"
    assert sms.sent[0].recipient.telegram_id is None
    rows = await outbox(ctx, Kind.BROADCAST)
    assert {(m.person_id, m.channel, m.status) for m in rows} == {
        (by_telegram.id, "telegram", "sent"),
        (by_sms.id, "sms", "sent"),
    }
    assert all(m.sent_at == ctx.now() and m.provider_message_id and m.attempts == 1 for m in rows)


async def test_without_a_sender_messages_stay_queued(ctx: Context, clock: ManualClock) -> None:
    """No channel configured: nothing is claimed or lost; a person nothing can reach fails."""
    reachable = await person(ctx, "Tg", telegram_id=11)
    nobody = await person(ctx, "No contact")
    await queue(ctx, reachable.id or 0, "a")
    await queue(ctx, nobody.id or 0, "b")
    report = await dispatcher(ctx, clock).dispatch_once()
    assert (report.claimed, report.failed) == (0, 1)
    assert [(m.status, m.last_error) for m in await outbox(ctx)] == [
        ("pending", None),
        ("failed", "unreachable"),
    ]


async def test_messages_not_yet_due_wait(ctx: Context, clock: ManualClock) -> None:
    """A message due in an hour is not sent now."""
    telegram = RecordingSender("telegram")
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0, due_at=ctx.now() + timedelta(hours=1))
    await dispatcher(ctx, clock, telegram).dispatch_once()
    telegram.assert_nothing_sent()


async def test_transient_failures_back_off_and_stay_retryable_until_the_message_expires(
    ctx: Context, clock: ManualClock
) -> None:
    """5 s, then 10 s ... at most 10 min between attempts; a provider outage of hours never
    fails the message (whatever ``max_attempts`` says): it expires at its moment."""
    ctx = dataclasses.replace(
        ctx,
        settings=ctx.settings.model_copy(update={"dispatch": DispatchSettings(max_attempts=3)}),
    )
    telegram = RecordingSender("telegram")
    telegram.fail_next(TransientSendError("HTTP 502"), count=1000)
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0, expires_at=ctx.now() + timedelta(hours=5))
    worker = dispatcher(ctx, clock, telegram)
    await worker.dispatch_once()
    (row,) = await outbox(ctx)
    assert (row.status, row.attempts, row.next_attempt_at) == (
        "pending",
        1,
        ctx.now() + timedelta(seconds=5),
    )
    await worker.dispatch_once()
    assert telegram.attempts == 1  # not before its time
    clock.advance(timedelta(seconds=5))
    await worker.dispatch_once()
    (row,) = await outbox(ctx)
    assert (row.attempts, row.next_attempt_at) == (2, ctx.now() + timedelta(seconds=10))
    for _ in range(25):  # four hours of outage
        clock.advance(timedelta(minutes=10))
        await worker.dispatch_once()
    (row,) = await outbox(ctx)
    assert (row.status, row.attempts) == ("pending", 27)
    assert row.last_error is not None and "HTTP 502" in row.last_error
    clock.advance(timedelta(hours=1))
    await worker.dispatch_once()
    (row,) = await outbox(ctx)
    assert row.status == "expired"  # at its moment, never "failed"
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [5, 10, 20, 600, 600]


async def test_a_message_without_expiry_is_tried_for_seven_days(
    ctx: Context, clock: ManualClock
) -> None:
    """No expiry: retried through an outage until the 7-day ceiling, then failed."""
    telegram = RecordingSender("telegram")
    telegram.fail_next(TransientSendError("HTTP 502"), count=10_000)
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0)
    worker = dispatcher(ctx, clock, telegram)
    await worker.dispatch_once()
    clock.advance(timedelta(days=6, hours=23))
    await worker.dispatch_once()
    (row,) = await outbox(ctx)
    assert row.status == "pending"
    clock.advance(timedelta(hours=1))
    await worker.dispatch_once()
    (row,) = await outbox(ctx)
    assert row.status == "failed" and "7 days" in (row.last_error or "")


async def test_unexpected_errors_fail_after_max_attempts(ctx: Context, clock: ManualClock) -> None:
    """An error that is not the provider's (a fault in a channel) ends after max_attempts."""
    ctx = dataclasses.replace(
        ctx,
        settings=ctx.settings.model_copy(update={"dispatch": DispatchSettings(max_attempts=2)}),
    )
    telegram = RecordingSender("telegram")
    telegram.fail_next(RuntimeError("bug"), count=5)
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0)
    worker = dispatcher(ctx, clock, telegram)
    await worker.dispatch_once()
    clock.advance(timedelta(seconds=5))
    await worker.dispatch_once()
    (row,) = await outbox(ctx)
    assert (row.status, row.attempts) == ("failed", 2)
    assert "gave up after 2" in (row.last_error or "")


async def test_retry_after_is_honoured_and_pauses_the_channel(
    ctx: Context, clock: ManualClock
) -> None:
    """Telegram says retry after 30 s: the message waits 30 s, and so does the next one."""
    telegram = RecordingSender("telegram")
    telegram.fail_next(TransientSendError("Flood control", retry_after=30))
    first = await person(ctx, "A", telegram_id=11)
    second = await person(ctx, "B", telegram_id=12)
    await queue(ctx, first.id or 0, "a")
    worker = dispatcher(ctx, clock, telegram)
    started = ctx.now()
    await worker.dispatch_once()
    (row,) = await outbox(ctx)
    assert row.next_attempt_at == started + timedelta(seconds=30)
    await queue(ctx, second.id or 0, "b")
    await worker.dispatch_once()
    assert ctx.now() >= started + timedelta(seconds=30)  # the limiter held it back
    clock.set(started + timedelta(seconds=30))
    await worker.dispatch_once()
    telegram.assert_sent_once_each([first.id or 0, second.id or 0])


async def test_blocked_on_telegram_falls_back_to_sms_else_unreachable(
    ctx: Context, clock: ManualClock
) -> None:
    """Blocked the bot: the message goes by SMS when the person has a phone; without one
    (or opted out) it fails as unreachable, and the person is marked so."""
    telegram, sms = RecordingSender("telegram"), RecordingSender("sms")
    with_phone = await person(ctx, "Has phone", telegram_id=11, phone="0703333301")
    without = await person(ctx, "No phone", telegram_id=12)
    for walker in (with_phone, without):
        telegram.block(walker.id or 0)
    await broadcast(ctx, OPERATOR, "Hej", Audience())
    worker = dispatcher(ctx, clock, telegram, sms)
    first = await worker.dispatch_once()
    assert first.rerouted == 2
    await worker.dispatch_once()
    sms.assert_sent_once_each([with_phone.id or 0])
    telegram.assert_nothing_sent()
    rows = {m.person_id: m for m in await outbox(ctx)}
    assert (rows[with_phone.id].status, rows[with_phone.id].channel) == ("sent", "sms")
    assert (rows[without.id].status, rows[without.id].last_error) == ("failed", "unreachable")
    async with ctx.store.sessions() as session:
        stored = await session.get(Person, without.id)
    assert stored is not None and stored.telegram_blocked


async def test_expired_messages_are_never_sent(ctx: Context, clock: ManualClock) -> None:
    """A message whose moment is over is recorded expired and not sent."""
    telegram = RecordingSender("telegram")
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0, expires_at=ctx.now() + timedelta(minutes=5))
    clock.advance(timedelta(minutes=5))
    report = await dispatcher(ctx, clock, telegram).dispatch_once()
    telegram.assert_nothing_sent()
    assert report.expired == 1
    assert [m.status for m in await outbox(ctx)] == ["expired"]


async def test_a_reminder_for_a_cancelled_sign_up_is_not_sent(
    ctx: Context, clock: ManualClock
) -> None:
    """Queued, then the walker cancels before it goes: expired with the reason, not sent."""
    telegram = RecordingSender("telegram")
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    walker = world.walkers[0].id or 0
    await signups.sign_up(ctx, walker, shift.id or 0)
    clock.set(shift.start_at - timedelta(hours=24))
    await compute_due(ctx)
    await signups.cancel_signup(ctx, walker, shift.id or 0)
    await dispatcher(ctx, clock, telegram).dispatch_once()
    assert telegram.sent_to(walker) == []
    (reminder,) = await outbox(ctx, Kind.REMINDER)
    assert reminder.status == "expired" and "no longer signed up" in (reminder.last_error or "")


async def test_repeats_of_an_acknowledged_alert_are_not_sent(
    ctx: Context, clock: ManualClock
) -> None:
    """Alert repetitions still queued when someone acknowledges are dropped."""
    telegram, sms = RecordingSender("telegram"), RecordingSender("sms")
    world = await make_world(ctx, walkers=1)
    shift = await shift_at(ctx, world, "2026-11-27 21:00", "2026-11-28 01:00")
    walker = world.walkers[0].id or 0
    await signups.sign_up(ctx, walker, shift.id or 0)
    clock.set(shift.start_at)
    await signups.check_in(ctx, walker, shift.id or 0)
    clock.set(shift.end_at + timedelta(minutes=30))
    await compute_due(ctx)
    (alert,) = await open_alerts(ctx)
    by_sms = replace(Actor.of(world.lead, "sms"), confirmed=True)  # with its one-time code
    await acknowledge_alert(ctx, by_sms, alert.id or 0)
    await dispatcher(ctx, clock, telegram, sms).dispatch_once()
    alerts = await outbox(ctx, Kind.SAFETY_ALERT)
    assert {m.status for m in alerts} == {"expired"}
    assert sms.sent_to(world.lead.id or 0) == []


async def test_urgent_messages_go_first(ctx: Context, clock: ManualClock) -> None:
    """An urgent message (a cancelled shift) queued behind a broadcast is claimed first."""
    telegram = RecordingSender("telegram")
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0, "broadcast")
    await queue(ctx, walker.id or 0, "urgent", urgent=True, kind="shift_cancelled")
    await dispatcher(ctx, clock, telegram, batch_size=1).dispatch_once()
    assert [m.text for m in telegram.sent_to(walker.id or 0)] == ["shift_cancelled: hej"]


async def test_rate_limits_per_channel_and_per_chat(ctx: Context, clock: ManualClock) -> None:
    """At 2 messages a second, seven take 3 s; two to one chat are at least a second apart."""
    telegram = RecordingSender("telegram", clock=clock)
    people = [await person(ctx, f"P{n}", telegram_id=100 + n) for n in range(6)]
    for walker in people:
        await queue(ctx, walker.id or 0, f"b:{walker.id}")
    await queue(ctx, people[0].id or 0, "second-to-first")
    limits = {"telegram": ChannelLimits(2.0, 1.0)}
    fake = FakeTime(clock)
    worker = Dispatcher(
        ctx,
        {"telegram": telegram},
        plain_renderer,
        limits=limits,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
        batch_size=10,
    )
    started = clock.now()
    await worker.dispatch_once()
    assert len(telegram.sent) == 7
    elapsed = (clock.now() - started).total_seconds()
    assert abs(elapsed - 3.0) < 0.01  # seven slots 0.5 s apart
    times = sorted(s.at for s in telegram.sent if s.recipient.person_id == people[0].id)
    assert times[1] - times[0] >= timedelta(seconds=1)


async def test_a_crashed_claim_is_sent_again_after_the_lease(
    ctx: Context, clock: ManualClock
) -> None:
    """A row left sending by a process that stopped renewing is reclaimed once its lease
    (``[dispatch] lease``, 30 s) ran out, and not before."""
    telegram = RecordingSender("telegram")
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0)
    await _claim_as(ctx, "elsewhere:4242:deadbeef")
    worker = dispatcher(ctx, clock, telegram)
    await worker.dispatch_once()
    telegram.assert_nothing_sent()
    clock.advance(timedelta(seconds=31))
    await worker.dispatch_once()
    telegram.assert_sent_once_each([walker.id or 0])


async def test_a_live_claim_of_a_process_with_the_same_host_and_pid_is_not_taken(
    ctx: Context, clock: ManualClock
) -> None:
    """Two replicas sharing a host name (and, in containers, a process id): the other's claim
    stands while its lease runs, whatever its ``claimed_by`` says."""
    telegram = RecordingSender("telegram")
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0)
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    await _claim_as(ctx, f"{socket.gethostname()[:40]}:{gone.pid}:cafe0123")
    await dispatcher(ctx, clock, telegram).dispatch_once()
    telegram.assert_nothing_sent()


@dataclasses.dataclass
class FlakyStore(Store):
    """The store, with its next ``down`` transactions failing as when PostgreSQL is away."""

    down: int = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        if self.down:
            self.down -= 1
            raise OperationalError("BEGIN", None, ConnectionRefusedError("connection refused"))
        async with super().transaction() as session:
            yield session


class DownAfterSending(RecordingSender):
    """Sends, and then the database goes away for ``failures`` transactions."""

    def __init__(self, store: FlakyStore, failures: int) -> None:
        super().__init__("telegram")
        self.store, self.failures = store, failures

    async def send(
        self, recipient: Recipient, message: Outgoing, valid_until: datetime | None = None
    ) -> Delivery:
        delivery = await super().send(recipient, message, valid_until)
        self.store.down = self.failures
        return delivery


async def test_a_send_is_recorded_once_the_database_is_back(
    ctx: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes away between a send and its record: the outcome is kept and written
    when the database answers again, and the message is not sent again after the lease."""
    monkeypatch.setattr(outcomes, "STORE_RETRY_FIRST_S", 0.01)
    store = FlakyStore(ctx.store.engine, ctx.store.sessions)
    ctx = dataclasses.replace(ctx, store=store)
    telegram = DownAfterSending(store, failures=3)
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0)
    worker = dispatcher(ctx, clock, telegram)
    report = await worker.dispatch_once()
    assert report.sent == 1 and store.down == 0
    (row,) = await outbox(ctx)
    assert (row.status, row.attempts) == ("sent", 1)
    clock.advance(timedelta(minutes=3))
    await worker.dispatch_once()
    telegram.assert_sent_once_each([walker.id or 0])


async def test_a_message_not_rendered_for_want_of_the_database_is_queued_again(
    ctx: Context, clock: ManualClock
) -> None:
    """Rendering needs the database, which has gone away: the message is not failed but goes
    back to the queue, unsent and with no attempt counted, and goes out later."""

    async def database_away(*_args: Any) -> Outgoing:
        raise OperationalError("SELECT", None, ConnectionRefusedError("connection refused"))

    telegram = RecordingSender("telegram")
    walker = await person(ctx, "Tg", telegram_id=11)
    await queue(ctx, walker.id or 0)
    worker = dispatcher(ctx, clock, telegram)
    worker.renderer = database_away
    assert (await worker.dispatch_once()).released == 1
    (row,) = await outbox(ctx)
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 0, None)
    worker.renderer = plain_renderer
    await worker.dispatch_once()
    telegram.assert_sent_once_each([walker.id or 0])


async def _claim_as(ctx: Context, worker: str) -> None:
    async with ctx.store.transaction() as session:
        await session.exec(
            update(OutboxMessage).values(
                status=OutboxStatus.SENDING, claimed_by=worker, claimed_at=ctx.now(),
                claim_token="theirs", lease_until=ctx.now() + timedelta(seconds=30),
            )
        )


async def test_two_dispatchers_on_one_database_send_each_message_exactly_once(
    ctx: Context, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers with their own connections race over a 120-person broadcast: every
    recipient gets it exactly once. A gate holds each worker's first claim after its rows are
    selected (locked) until both are there, so without the row locks both take the same rows
    (``tests/race.py``)."""
    gate, judge = Gate(2), claiming.stale_reason

    async def at_the_gate(*args: Any) -> str | None:
        await gate.arrive()
        return await judge(*args)

    monkeypatch.setattr(claiming, "stale_reason", at_the_gate)
    people = [await person(ctx, f"P{n}", telegram_id=100 + n) for n in range(120)]
    await broadcast(ctx, OPERATOR, "Extra pass i kväll!", Audience())
    other_store = Store.open(ctx.settings.database.url)
    other = dataclasses.replace(ctx, store=other_store)
    first, second = RecordingSender("telegram", delay=0.001), RecordingSender("telegram", 0.001)
    workers = [
        dispatcher(ctx, clock, first, batch_size=7),
        dispatcher(other, clock, second, batch_size=7),
    ]
    try:
        reports = await asyncio.gather(*(_drain(worker) for worker in workers))
    finally:
        await other_store.close()
    merged = RecordingSender("telegram")
    merged.sent = first.sent + second.sent
    merged.assert_sent_once_each([p.id or 0 for p in people])
    assert all(report > 0 for report in reports), reports  # both did part of the work
    assert {m.status for m in await outbox(ctx)} == {"sent"}


async def _drain(worker: Dispatcher) -> int:
    """Dispatch until a pass finds nothing; how many this worker sent."""
    sent = 0
    while True:
        report = await worker.dispatch_once()
        sent += report.sent
        if report.claimed == 0:
            return sent
        await asyncio.sleep(0)


async def test_the_routing_rule_in_sql_matches_python(ctx: Context) -> None:
    """For every combination of contacts and flags, the claim query routes as route() does."""
    from itertools import product

    from sqlmodel import select

    from scheduling.messages.routing import route, route_is

    async with ctx.store.transaction() as session:
        for n, flags in enumerate(product([False, True], repeat=7)):
            has_tg, blocked, has_phone, opted_out, bad_number, prefers_sms, erased = flags
            session.add(
                Person(
                    name=f"P{n}",
                    telegram_id=1000 + n if has_tg else None,
                    telegram_blocked=blocked,
                    phone=f"+4670{n:07d}" if has_phone else None,
                    sms_opted_out=opted_out,
                    sms_unreachable=bad_number,
                    preferred_channel="sms" if prefers_sms else "telegram",
                    erased_at=ctx.now() if erased else None,
                    created_at=ctx.now(),
                )
            )
    async with ctx.store.sessions() as session:
        people = list((await session.exec(select(Person))).all())
        for channel in ("telegram", "sms", None):
            chosen = set((await session.exec(select(Person.id).where(route_is(channel)))).all())
            expected = {p.id for p in people if route(p) == channel}
            assert chosen == expected, channel
