"""The broadcast benchmark runs end to end at a tiny size (the figures are in docs/delivery.md).

``bench/broadcast.py --recipients 50 --limit-per-s 100`` as a subprocess from the repo root: it
must exit 0 and end with a RESULT line carrying every key the issue lists, with nobody lost or
reached twice. No timing is asserted (a CI machine may be slow); the real run is 5,000 at 25/s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = {
    "recipients",
    "limit_per_s",
    "achieved_per_s",
    "ratio",
    "lost",
    "duplicated",
    "rate_limited",
    "seconds",
}


def run_bench(*extra: str) -> subprocess.CompletedProcess[str]:
    tiny = ("--recipients", "50", "--limit-per-s", "100")
    return subprocess.run(
        [sys.executable, "bench/broadcast.py", *tiny, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def result_of(stdout: str) -> dict[str, str]:
    last = stdout.strip().splitlines()[-1]
    word, *pairs = last.split()
    assert word == "RESULT", last
    return dict(pair.split("=", 1) for pair in pairs)


def test_tiny_broadcast_reaches_everyone_once(database_url: str) -> None:
    """SQLite by default (no --database-url); PostgreSQL through --database-url."""
    extra = () if database_url.startswith("sqlite") else ("--database-url", database_url)
    done = run_bench(*extra)
    assert done.returncode == 0, done.stderr[-3000:]
    result = result_of(done.stdout)
    assert result.keys() >= KEYS
    assert result["recipients"] == "50"
    assert result["limit_per_s"] == "100"
    assert result["lost"] == "0"
    assert result["duplicated"] == "0"
    assert result["failed"] == "0"
    assert int(result["rate_limited"]) >= 0
    assert float(result["achieved_per_s"]) > 0
    assert float(result["ratio"]) > 0
    assert float(result["seconds"]) > 0
    assert result["database"] == ("sqlite" if not extra else "postgresql")
    assert "queued" in done.stderr  # progress goes to stderr


def test_help_names_the_options() -> None:
    done = subprocess.run(
        [sys.executable, "bench/broadcast.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for option in ("--recipients", "--limit-per-s", "--database-url", "--max-seconds"):
        assert option in done.stdout


def test_a_run_that_cannot_fit_in_the_time_bound_is_refused() -> None:
    """5,000 at 1/s cannot finish within 60 s: exit 2 at once, saying so."""
    done = subprocess.run(
        [sys.executable, "bench/broadcast.py", "--limit-per-s", "1", "--max-seconds", "60"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--max-seconds" in done.stderr
    assert "RESULT" not in done.stdout
