"""`vandra outbox list`: what was sent to whom, failed (unreachable) or expired."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from models.db import Store
from models.tables import OutboxStatus
from scheduling.messages.outbox import NewMessage, enqueue_many

CONTRACT_KEYS = {
    "id",
    "kind",
    "channel",
    "person_id",
    "status",
    "due_at",
    "sent_at",
    "attempts",
    "delivery_status",
    "dedupe_key",
}


@pytest.fixture
def vandra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `vandra ARGS...` in-process on a fresh SQLite file; returns (code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VANDRA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("VANDRA_CONFIG", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = 0
        try:
            main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


async def seed(url: str) -> None:
    """One message in each final state, and one still queued."""
    now = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    store = Store.open(url)
    try:
        async with store.transaction() as session:
            messages = [
                NewMessage(
                    key=f"broadcast:1:person:{n}",
                    kind="broadcast",
                    person_id=1,
                    due_at=now,
                    status=status,
                    last_error=error,
                )
                for n, (status, error) in enumerate(
                    [
                        (OutboxStatus.PENDING, None),
                        (OutboxStatus.SENT, None),
                        (OutboxStatus.FAILED, "unreachable"),
                        (OutboxStatus.EXPIRED, "expired before it could be sent"),
                    ]
                )
            ]
            await enqueue_many(session, messages, now)
    finally:
        await store.close()


def test_outbox_list_json_has_the_contract_fields_and_filters_by_status(
    vandra, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """--json prints every message with the contract's keys; --status failed shows why."""
    assert vandra("people", "add", "--name", "Anna", "--phone", "0701234567")[0] == 0
    asyncio.run(seed(f"sqlite:///{tmp_path / 'cli.db'}"))
    code, out, _ = vandra("outbox", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["status"] for r in rows] == ["pending", "sent", "failed", "expired"]
    assert all(set(row) >= CONTRACT_KEYS for row in rows)
    assert rows[0]["due_at"] == "2026-11-27T21:00:00+01:00"
    code, out, _ = vandra("outbox", "list", "--status", "failed", "--json")
    (failed,) = json.loads(out)
    assert failed["last_error"] == "unreachable" and failed["dedupe_key"] == "broadcast:1:person:2"
    code, out, _ = vandra("outbox", "list", "--status", "failed")
    assert code == 0 and "unreachable" in out and "broadcast" in out


def test_outbox_list_refuses_an_unknown_status(vandra) -> None:  # type: ignore[no-untyped-def]
    """A status outside the list: exit 2, one line."""
    code, _, err = vandra("outbox", "list", "--status", "lost")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_empty_outbox_says_so(vandra) -> None:  # type: ignore[no-untyped-def]
    """Nothing queued yet: a plain sentence, and [] with --json."""
    assert vandra("outbox", "list")[1].strip() == "no messages"
    assert json.loads(vandra("outbox", "list", "--json")[1]) == []


async def seed_failed(url: str) -> None:
    """Three failed messages: due 27 Nov, due 2 Dec, and one that expired in 2020."""
    store = Store.open(url)
    try:
        async with store.transaction() as session:
            messages = [
                NewMessage(
                    key=f"broadcast:9:person:{n}",
                    kind="broadcast",
                    person_id=1,
                    due_at=due,
                    expires_at=expires,
                    status=OutboxStatus.FAILED,
                    last_error="gave up",
                )
                for n, (due, expires) in enumerate(
                    [
                        (datetime(2026, 11, 27, 20, 0, tzinfo=UTC), None),
                        (datetime(2026, 12, 2, 20, 0, tzinfo=UTC), None),
                        (
                            datetime(2020, 11, 27, 20, 0, tzinfo=UTC),
                            datetime(2020, 11, 28, 20, 0, tzinfo=UTC),
                        ),
                    ]
                )
            ]
            await enqueue_many(session, messages, datetime(2026, 11, 27, 20, 0, tzinfo=UTC))
    finally:
        await store.close()


def test_outbox_retry_requeues_failed_messages_that_have_not_expired(
    vandra, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """By id, or every failed one (since a day): pending again, attempts reset, the count
    printed; an expired one stays failed."""
    assert vandra("people", "add", "--name", "Anna", "--phone", "0701234567")[0] == 0
    asyncio.run(seed_failed(f"sqlite:///{tmp_path / 'cli.db'}"))
    code, out, _ = vandra("outbox", "retry", "--status", "failed", "--since", "2026-12-01")
    assert (code, out.split()[0]) == (0, "1")
    code, out, _ = vandra("outbox", "retry", "1", "3")
    assert (code, out.split()[0]) == (0, "1")  # 3 expired
    rows = json.loads(vandra("outbox", "list", "--json")[1])
    assert [(r["status"], r["attempts"]) for r in rows] == [
        ("pending", 0),
        ("pending", 0),
        ("failed", 0),
    ]
    code, out, _ = vandra("outbox", "retry", "--status", "failed")
    assert (code, out.split()[0]) == (0, "0")


def test_outbox_retry_wants_ids_or_status(vandra) -> None:  # type: ignore[no-untyped-def]
    """Neither, both, --since alone or a bad date: exit 2 with one line."""
    for args in (
        (),
        ("1", "--status", "failed"),
        ("--since", "2026-12-01", "1"),
        ("--status", "failed", "--since", "1 Dec"),
    ):
        code, _, err = vandra("outbox", "retry", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, (args, err)
