"""Under CI the PostgreSQL half cannot pass by skipping; elsewhere it skips and says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_run import free_port

ROOT = Path(__file__).resolve().parent.parent


def _run_one_postgres_test(ci: str | None) -> subprocess.CompletedProcess[str]:
    """Run one PostgreSQL test in a child pytest against a port where nothing listens."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["VANDRA_TEST_POSTGRES_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
         "tests/test_store.py::test_aware_time_round_trips[postgres]"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_ci_fails_when_postgres_is_unreachable(ci: str) -> None:
    """With CI set, an unreachable server is a failure that names the reason, not a skip."""
    result = _run_one_postgres_test(ci)
    assert result.returncode == 1, result.stdout
    assert "1 error" in result.stdout  # the fixture fails, so pytest counts an error
    assert "PostgreSQL not reachable" in result.stdout
    assert "CI is set" in result.stdout


def test_without_ci_an_unreachable_postgres_skips_with_the_reason() -> None:
    """Without CI the same test skips and prints why."""
    result = _run_one_postgres_test(None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "PostgreSQL not reachable" in result.stdout
