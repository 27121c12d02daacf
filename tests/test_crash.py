"""Crash test: `vandra run` killed (SIGKILL) mid-broadcast and started again.

The SMS channel points at the fake Twilio server, which runs in this test's event loop; the
`vandra run` processes are started with asyncio so the loop keeps serving them.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilioServer,
)
from models.db import Store
from models.tables import OutboxMessage
from scheduling.common.clock import SystemClock
from scheduling.common.config import load_settings
from scheduling.common.context import Context
from scheduling.messages.broadcast import Audience, broadcast
from scheduling.people.directory import add_person, record_consent
from tests.helpers import OPERATOR
from tests.test_run import free_port, vandra_env

RECIPIENTS = 90
KILLS = 2


def sms_env(tmp_path: Path, tw: FakeTwilioServer) -> dict[str, str]:
    port = free_port()
    return vandra_env(
        tmp_path,
        VANDRA_HTTP_PORT=str(port),
        VANDRA_HTTP_PUBLIC_URL=f"http://127.0.0.1:{port}",
        VANDRA_SMS_ACCOUNT_SID=TEST_ACCOUNT_SID,
        VANDRA_SMS_AUTH_TOKEN=TEST_AUTH_TOKEN,
        VANDRA_SMS_FROM_NUMBER=TEST_FROM_NUMBER,
        VANDRA_SMS_API_BASE_URL=tw.base_url,
        VANDRA_SMS_MAX_MESSAGES_PER_SECOND="20",
    )


async def vandra(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def seed_broadcast(env: dict[str, str], cwd: Path) -> list[str]:
    """RECIPIENTS people reachable only by SMS, and one broadcast to them all."""
    upgrade = await vandra(env, cwd, "db", "upgrade")
    assert await upgrade.wait() == 0
    settings = load_settings(None, environ=env)
    store = Store.open(settings.database.url)  # an absolute sqlite:////... path
    ctx = Context(store=store, settings=settings, clock=SystemClock())
    try:
        numbers = []
        for n in range(RECIPIENTS):
            person = await add_person(ctx, OPERATOR, name=f"Walker {n}", phone=f"07012{n:05d}")
            person = await record_consent(ctx, person.id or 0)
            assert person.phone is not None
            numbers.append(person.phone)
        await broadcast(ctx, OPERATOR, "Extra pass i kväll vid Kalmar C!", Audience())
        return numbers
    finally:
        await store.close()


async def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def outbox_statuses(url: str) -> Counter[str]:
    store = Store.open(url)
    try:
        async with store.sessions() as session:
            rows = (await session.exec(select(OutboxMessage.status))).all()
            return Counter(rows)
    finally:
        await store.close()


@pytest.mark.slow
async def test_killed_mid_broadcast_everyone_gets_it_with_at_most_one_duplicate_per_kill(
    tmp_path: Path,
) -> None:
    """Kill `vandra run` twice while it sends a 90-person broadcast by SMS, then let a third
    run finish: every recipient got it, duplicates at most one per kill, all rows sent."""
    async with FakeTwilioServer() as tw:
        env = sms_env(tmp_path, tw)
        numbers = await seed_broadcast(env, tmp_path)
        for kill in range(1, KILLS + 1):
            process = await vandra(env, tmp_path, "run")
            target = kill * RECIPIENTS // (KILLS + 1)
            await wait_until(lambda t=target: len(tw.sent) >= t, 30, f"{target} messages")
            process.send_signal(signal.SIGKILL)
            assert await process.wait() == -signal.SIGKILL
        final = await vandra(env, tmp_path, "run")
        try:
            await wait_until(lambda: set(numbers) <= {s.to for s in tw.sent}, 30, "everyone")
            url = env["VANDRA_DATABASE_URL"]
            for _ in range(100):
                if set(await outbox_statuses(url)) == {"sent"}:
                    break
                await asyncio.sleep(0.1)
            assert await outbox_statuses(url) == Counter({"sent": RECIPIENTS})
        finally:
            final.send_signal(signal.SIGTERM)
            code = await final.wait()
        stderr = (await final.stderr.read()).decode() if final.stderr else ""
        assert code == 0, stderr
    counts = Counter(sms.to for sms in tw.sent)
    assert set(counts) == set(numbers)
    duplicates = sum(count - 1 for count in counts.values())
    print(f"crash test: {RECIPIENTS} recipients, {KILLS} kills, {duplicates} duplicates")
    assert duplicates <= KILLS, counts
