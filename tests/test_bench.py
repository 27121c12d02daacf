"""The benchmarks run end to end at tiny sizes and end with a parsable RESULT line.

Nothing here looks at the figures themselves: on a shared machine they say nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def run(script: str, *args: str) -> tuple[dict[str, str], str]:
    done = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT "), done.stdout
    pairs = [item.split("=", 1) for item in last.removeprefix("RESULT ").split()]
    assert all(len(pair) == 2 and pair[0] and pair[1] for pair in pairs), last
    return dict(pairs), done.stderr


def test_updates_benchmark_reports_the_issues_keys() -> None:
    """bench/updates.py: vandra against a bare echo bot, on SQLite, with tiny sizes."""
    result, progress = run(
        "updates.py", "--volunteers", "20", "--concurrency", "5", "--db", "sqlite"
    )
    keys = {"volunteers", "updates_per_s", "echo_updates_per_s", "ratio", "p50_ms", "p99_ms", "db"}
    assert keys <= result.keys()
    assert (result["volunteers"], result["updates"], result["db"]) == ("20", "40", "sqlite")
    assert result["signed_up_sqlite"] == "20"  # every volunteer got "anmäld"
    for key in ("updates_per_s", "echo_updates_per_s", "ratio", "p50_ms", "p99_ms"):
        float(result[key])
    assert float(result["loop_ms_sqlite"]) > 0 and float(result["echo_loop_ms"]) > 0
    assert "driver" not in result  # PostgreSQL did not run
    # the ratio is to the mean of the echo runs before and after vandra's
    assert progress.count("echo bot: 20 users") == 2
    assert result["echo_updates_per_s_sqlite"] == result["echo_updates_per_s"]
    ratio = float(result["updates_per_s"]) / float(result["echo_updates_per_s"])
    assert abs(float(result["ratio"]) - ratio) <= 0.01 + 0.01 * ratio
    assert "[updates]" in progress


def test_sms_webhook_benchmark_reports_the_issues_keys() -> None:
    """bench/sms_webhook.py: signed webhooks against the served app, with tiny sizes."""
    result, progress = run("sms_webhook.py", "--requests", "50", "--concurrency", "4")
    keys = {"requests", "requests_per_s", "p50_ms", "p99_ms", "p99_ms_at_100rps"}
    assert keys <= result.keys()
    assert (result["requests"], result["errors"]) == ("50", "0")
    for key in ("requests_per_s", "p50_ms", "p99_ms"):
        float(result[key])
    assert "[sms_webhook]" in progress


@pytest.mark.parametrize("script", ["updates.py", "sms_webhook.py"])
def test_help_names_the_result_line(script: str) -> None:
    """--help works without a database and documents the RESULT line."""
    done = subprocess.run(
        [sys.executable, f"bench/{script}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "RESULT" in done.stdout



def test_updates_benchmark_runs_postgres_on_the_chosen_driver() -> None:
    """--driver (psycopg unless told) replaces the driver of --postgres-url, whatever it names."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv[0] = 'bench/updates.py'; sys.path.insert(0, 'bench');"
            "import updates as u;"
            "print(u.parse_args(['--postgres-url', 'postgresql+asyncpg://h/db']).postgres_url);"
            "print(u.parse_args(['--postgres-url', 'postgresql://h/db', '--driver', 'asyncpg'])"
            ".postgres_url)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["postgresql+psycopg://h/db", "postgresql+asyncpg://h/db"]


@pytest.mark.postgres
def test_db_floor_benchmark_reports_each_layer() -> None:
    """bench/db_floor.py: the echo bot with round trips before each reply, at tiny sizes."""
    result, progress = run(
        "db_floor.py", "--volunteers", "10", "--concurrency", "3", "--pairs", "1",
        "--round-trips", "2",
    )
    assert (result["db"], result["round_trips"], result["updates"]) == ("postgres", "2", "20")
    for layer in ("none", "raw", "sqlalchemy"):
        assert float(result[f"ratio_{layer}"]) > 0 and float(result[f"loop_ms_{layer}"]) > 0
    assert float(result["echo_loop_ms"]) > 0
    assert "[db_floor]" in progress


@pytest.mark.postgres
@pytest.mark.parametrize("layer", ["raw", "sqlalchemy"])
async def test_db_floor_makes_the_round_trips_it_names(
    layer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each of the K statements reaches the server: a sequence counts them."""
    sys.path.insert(0, str(ROOT / "bench"))
    import db_floor

    from tests.conftest import database_for

    counted = "nextval('floor_probe')::int"
    monkeypatch.setattr(db_floor, "RAW_STATEMENT", f"SELECT {counted} + 0 * %s::int")
    monkeypatch.setattr(
        db_floor, "SQLALCHEMY_STATEMENT", f"SELECT {counted} + 0 * CAST(:n AS integer)"
    )
    with (
        database_for("postgres", tmp_path) as url,
        psycopg.connect(db_floor.updates.libpq(url), autocommit=True) as connection,
    ):
        connection.execute("CREATE SEQUENCE floor_probe")
        async with db_floor.OPENERS[layer](url) as round_trips:
            await round_trips(3)
            await round_trips(2)
        last = connection.execute("SELECT last_value FROM floor_probe").fetchone()
        assert last == (5,)
