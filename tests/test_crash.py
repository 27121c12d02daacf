"""Crash tests: `vandra run` killed (SIGKILL) while it sends, through fakes that answer late.

The fakes answer 0.3 s after a message took effect (as Twilio does), so every kill leaves
messages that went out without their process knowing. SMS: none may go twice (vandra asks the
fake Twilio what it accepted). Telegram: a message in flight at a kill may go once more, at
most ``[dispatch] max_in_flight`` per kill. The run itself is ``fakes/crash_run.py`` (the
benchmark ``bench/crash.py`` runs it with 2,000 messages).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.crash_run import CrashPlan, CrashResult, crash_run
from tests.conftest import database_for


def assert_within_the_bounds(result: CrashResult) -> None:
    print(result.line())
    assert result.lost == 0, result
    assert result.sms_duplicated == 0, result
    assert result.telegram_duplicated <= result.kills * result.max_in_flight, result
    assert result.telegram_most_copies <= 1 + result.kills, result
    assert result.statuses == {"sent": result.messages}, result


@pytest.mark.slow
async def test_killed_three_times_nothing_lost_no_sms_twice_telegram_within_the_bound(
    tmp_path: Path,
) -> None:
    """One `vandra run` at a time, killed three times while sending SMS and Telegram messages
    and started again: everyone gets the message, no SMS twice, Telegram within the bound."""
    plan = CrashPlan(
        database_url=f"sqlite:///{tmp_path / 'crash.db'}",
        sms_people=30,
        telegram_people=60,
        kills=3,
        latency_s=0.3,
        sms_per_s=10,
        telegram_per_s=25,
        timeout_s=40,
    )
    assert_within_the_bounds(await crash_run(plan, tmp_path))


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_processes_on_postgresql_one_killed_midway(tmp_path: Path) -> None:
    """Two `vandra run` processes (webhook mode) share one PostgreSQL and 300 messages; one is
    killed midway and not replaced: the other takes over its claims once their leases ran out.
    Nothing lost, no SMS twice, Telegram within the bound of one kill."""
    with database_for("postgres", tmp_path) as url:
        plan = CrashPlan(
            database_url=url,
            sms_people=120,
            telegram_people=180,
            kills=1,
            processes=2,
            restart=False,
            latency_s=0.3,
            timeout_s=180,
        )
        assert_within_the_bounds(await crash_run(plan, tmp_path))
