"""A crash run: `vandra run` processes sending a broadcast through the fake providers, killed.

Used by ``tests/test_crash.py`` (small sizes) and ``bench/crash.py`` (2,000 messages)::

    result = await crash_run(CrashPlan(database_url=url, sms_people=40, telegram_people=60,
                                       kills=3, latency_s=0.3), workdir)
    assert result.lost == 0 and result.sms_duplicated == 0

People reachable only by SMS and people reachable only by Telegram get one broadcast each.
``processes`` `vandra run` processes (Telegram in webhook mode, SMS through the fake Twilio)
share the database; the fakes answer ``latency_s`` after a message took effect, so a process
killed meanwhile cannot know it went out. At evenly spaced points of progress (messages the
fakes accepted) one process gets SIGKILL; with ``restart`` a new one takes its place. The run
ends when everyone has the message and every outbox row is ``sent``; then all stop (SIGTERM).
The fakes run in the caller's event loop: the processes are started with asyncio.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlmodel import select

from fakes.telegram_server import FakeTelegramServer
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilioServer,
)
from models.db import Store
from models.tables import OutboxMessage, Person
from scheduling.common.clock import SystemClock
from scheduling.common.config import load_settings
from scheduling.common.context import Context
from scheduling.messages.broadcast import Audience, broadcast
from scheduling.people.access import Actor

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Extra pass i kväll vid Kalmar C! Samling 21:45 vid stationen."
TELEGRAM_ID_BASE = 700_000_000
WEBHOOK_SECRET = "crash-run-webhook-secret"


@dataclass(frozen=True)
class CrashPlan:
    database_url: str
    sms_people: int = 40
    telegram_people: int = 60
    kills: int = 3
    processes: int = 1
    restart: bool = True  # a killed process is replaced by a new one
    latency_s: float = 0.3  # the fakes answer this long after a message took effect
    sms_per_s: float = 10.0
    telegram_per_s: float = 25.0
    max_in_flight: int = 8
    lease: str = "2s"
    timeout_s: float = 300.0


@dataclass
class CrashResult:
    messages: int
    kills: int
    lost: int
    sms_duplicated: int
    telegram_duplicated: int
    max_in_flight: int
    telegram_most_copies: int
    seconds: float
    statuses: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"RESULT messages={self.messages} kills={self.kills} lost={self.lost} "
            f"sms_duplicated={self.sms_duplicated} telegram_duplicated={self.telegram_duplicated} "
            f"max_in_flight={self.max_in_flight} telegram_most_copies={self.telegram_most_copies} "
            f"seconds={self.seconds:.1f}"
        )


async def crash_run(plan: CrashPlan, workdir: Path) -> CrashResult:
    """Run ``plan`` in ``workdir`` (a folder of its own) and count what the fakes received."""
    async with (
        FakeTwilioServer() as tw,
        FakeTelegramServer(latency_after_s=plan.latency_s) as tg,
    ):
        tw.answer_after_accepting(plan.latency_s)
        run = _Run(plan, workdir, tw, tg)
        numbers, chats = await run.seed()
        started = time.monotonic()
        await run.drive()
        seconds = time.monotonic() - started
        statuses = await _statuses(plan.database_url)
    sms = Counter(s.to for s in tw.sent if TEXT[:20] in s.body)
    telegram = Counter({chat: _copies(tg, chat) for chat in chats})
    return CrashResult(
        messages=len(numbers) + len(chats),
        kills=run.kills,
        lost=sum(1 for n in numbers if not sms[n]) + sum(1 for c in chats if not telegram[c]),
        sms_duplicated=sum(count - 1 for count in sms.values() if count > 1),
        telegram_duplicated=sum(count - 1 for count in telegram.values() if count > 1),
        max_in_flight=plan.max_in_flight,
        telegram_most_copies=max(telegram.values(), default=0),
        seconds=seconds,
        statuses=dict(statuses),
    )


def _copies(tg: FakeTelegramServer, chat: int) -> int:
    return sum(1 for m in tg.messages_to(chat) if TEXT[:20] in (m.text or ""))


@dataclass
class _Run:
    plan: CrashPlan
    workdir: Path
    tw: FakeTwilioServer
    tg: FakeTelegramServer
    kills: int = 0
    chats: list[int] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VANDRA_")}
        env.update({
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "VANDRA_DATABASE_URL": self.plan.database_url,
            "VANDRA_SCHEDULING_TICK_SECONDS": "1",
            "VANDRA_HTTP_PORT": str(port),
            "VANDRA_HTTP_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "VANDRA_SMS_ACCOUNT_SID": TEST_ACCOUNT_SID,
            "VANDRA_SMS_AUTH_TOKEN": TEST_AUTH_TOKEN,
            "VANDRA_SMS_FROM_NUMBER": TEST_FROM_NUMBER,
            "VANDRA_SMS_API_BASE_URL": self.tw.base_url,
            "VANDRA_SMS_MAX_MESSAGES_PER_SECOND": str(self.plan.sms_per_s),
            "VANDRA_TELEGRAM_TOKEN": self.tg.token,
            "VANDRA_TELEGRAM_API_BASE_URL": self.tg.base_url,
            "VANDRA_TELEGRAM_MODE": "webhook",
            "VANDRA_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "VANDRA_TELEGRAM_MAX_MESSAGES_PER_SECOND": str(self.plan.telegram_per_s),
            "VANDRA_DISPATCH_MAX_IN_FLIGHT": str(self.plan.max_in_flight),
            "VANDRA_DISPATCH_LEASE": self.plan.lease,
            "VANDRA_LOGGING_LEVEL": "WARNING",
        })
        return env

    async def seed(self) -> tuple[list[str], list[int]]:
        """The schema, the people (straight into the table) and one broadcast to them all."""
        upgrade = await _vandra(self.env(), self.workdir, "db", "upgrade")
        assert await upgrade.wait() == 0, "vandra db upgrade failed"
        settings = load_settings(None, environ=self.env())
        store = Store.open(settings.database.url)
        try:
            await _insert_people(store, self.plan)
            ctx = Context(store=store, settings=settings, clock=SystemClock())
            await broadcast(ctx, Actor.operator(), TEXT, Audience())
        finally:
            await store.close()
        self.numbers = [_phone(n) for n in range(self.plan.sms_people)]
        self.chats = [TELEGRAM_ID_BASE + n for n in range(self.plan.telegram_people)]
        for chat in self.chats:
            self.tg.add_user(chat, f"Vandrare {chat}")
        return self.numbers, self.chats

    def accepted(self) -> int:
        return len(self.tw.sent) + len(self.tg.calls("sendMessage"))

    async def drive(self) -> None:
        """Start the processes, kill at the planned points, wait for the end, stop them all."""
        running = [
            await _vandra(self.env(), self.workdir, "run") for _ in range(self.plan.processes)
        ]
        deadline = time.monotonic() + self.plan.timeout_s
        total = self.plan.sms_people + self.plan.telegram_people
        try:
            for kill in range(1, self.plan.kills + 1):
                target = kill * total // (self.plan.kills + 1)
                await _until(lambda t=target: self.accepted() >= t, deadline, f"{target} sent")
                victim = running.pop((kill - 1) % len(running))
                victim.send_signal(signal.SIGKILL)
                await victim.wait()
                self.kills += 1
                if self.plan.restart or not running:
                    running.append(await _vandra(self.env(), self.workdir, "run"))
            await _until(self.everyone_reached, deadline, "everyone reached", every=0.1)
            await _until_all_sent(self.plan.database_url, deadline)
        finally:
            for process in running:
                process.send_signal(signal.SIGTERM)
            for process in running:
                await process.wait()

    def everyone_reached(self) -> bool:
        sms = {s.to for s in self.tw.sent}
        delivered = self.tg.delivered  # messages per chat (only the broadcast goes out here)
        return all(n in sms for n in self.numbers) and all(delivered[c] for c in self.chats)


def _phone(n: int) -> str:
    return f"+4670{n:07d}"


async def _insert_people(store: Store, plan: CrashPlan) -> None:
    registered = datetime.now(UTC) - timedelta(days=30)
    common: dict[str, Any] = {
        "preferred_channel": "telegram", "language": "sv", "role": "volunteer", "trained": False,
        "consent_at": registered, "age_confirmed_at": registered, "approved_at": registered,
        "sms_opted_out": False,
        "sms_unreachable": False, "telegram_blocked": False, "no_show_count": 0,
        "created_at": registered,
    }
    rows = [
        {**common, "name": f"Sms {n}", "phone": _phone(n), "telegram_id": None}
        for n in range(plan.sms_people)
    ]
    rows += [
        {**common, "name": f"Tg {n}", "phone": None, "telegram_id": TELEGRAM_ID_BASE + n}
        for n in range(plan.telegram_people)
    ]
    async with store.engine.begin() as connection:
        for first in range(0, len(rows), 1000):
            await connection.execute(insert(Person), rows[first : first + 1000])


_started = itertools.count(1)


async def _vandra(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    """`vandra ARGS` in ``cwd``; its log goes to ``cwd/vandra-N.log``."""
    with (cwd / f"vandra-{next(_started)}.log").open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, env=env, cwd=cwd,
            stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )


async def _until(condition: Any, deadline: float, what: str, every: float = 0.01) -> None:
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"crash run: timed out waiting for {what}")
        await asyncio.sleep(every)


async def _statuses(url: str) -> Counter[str]:
    store = Store.open(url)
    try:
        async with store.sessions() as session:
            return Counter((await session.exec(select(OutboxMessage.status))).all())
    finally:
        await store.close()


async def _until_all_sent(url: str, deadline: float) -> None:
    while set(await _statuses(url)) != {"sent"}:
        if time.monotonic() > deadline:
            raise AssertionError(f"crash run: outbox not all sent: {await _statuses(url)}")
        await asyncio.sleep(0.2)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
