"""`vandra run`: start-up checks, health, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vandra_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VANDRA_")}
    env.update(
        {
            "VANDRA_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
            "VANDRA_SCHEDULING_TICK_SECONDS": "1",
            **extra,
        }
    )
    return env


def vandra(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_refuses_an_empty_database(tmp_path: Path) -> None:
    """`vandra run` on a database without the schema exits 2 saying to run `db upgrade`."""
    result = vandra("run", env=vandra_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "vandra db upgrade" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_run_needs_public_url_for_sms(tmp_path: Path) -> None:
    """SMS configured without [http] public_url: exit 2 naming the key."""
    env = vandra_env(
        tmp_path,
        VANDRA_SMS_ACCOUNT_SID="AC" + "0" * 32,
        VANDRA_SMS_AUTH_TOKEN="secret-token-123",
        VANDRA_SMS_FROM_NUMBER="+46700000000",
    )
    assert vandra("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    result = vandra("run", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "[http] public_url" in result.stderr
    assert "secret-token-123" not in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_serves_health_and_stops_on_signal(tmp_path: Path, signum: int) -> None:
    """Health answers 200 naming store and scheduler; a stop signal ends it within 10 s, exit 0."""
    port = free_port()
    env = vandra_env(tmp_path, VANDRA_HTTP_PORT=str(port))
    assert vandra("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = _wait_healthy(port, process)
        assert body["checks"] == {"store": "ok", "scheduler": "ok"}
        started = time.monotonic()
        process.send_signal(signum)
        code = process.wait(timeout=10)
        assert code == 0, process.stderr.read() if process.stderr else ""
        assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def _wait_healthy(port: int, process: subprocess.Popen[str],
                  accept: tuple[int, ...] = (200,)) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"vandra run exited early: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            if response.status_code in accept:
                return dict(response.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("vandra run did not become healthy in 20 s")
