"""bench/stats.py end to end at tiny sizes: the store is built, every figure is measured and the
RESULT line carries the issue's keys (the figures themselves are not judged here)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_bench import ROOT, run

pytestmark = pytest.mark.slow
SMALL = ["--signups", "3000", "--reports", "300", "--areas", "12", "--organisations", "3"]
SMALL += ["--upcoming", "200", "--repeat", "3", "--ticks", "2"]


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_stats_benchmark_reports_the_issues_keys(db: str) -> None:
    result, progress = run("stats.py", *SMALL, "--db", db)
    keys = {"signups", "reports", "p50_ms", "p95_ms", "loop_blocked_max_ms", "db", "tick_ms"}
    assert keys <= result.keys()
    assert result["db"] == db
    assert int(result["signups"]) >= 3000 and int(result["reports"]) >= 250
    assert int(result["messages"]) > 2 * int(result["signups"])  # the ticks' history
    for key in ("p50_ms", "p95_ms", "loop_blocked_max_ms", "max_range_ms", "tick_ms", "tallies_s"):
        float(result[key])
    assert {f"export_{kind}_max_ms" for kind in ("signups", "stats")} <= result.keys()
    assert "[stats] loaded" in progress
    assert "walk tallies in" in progress and "counted 0 " not in progress


def test_a_kept_store_is_timed_again() -> None:
    """``--keep`` leaves the store built and names it; ``--store`` times it again without
    building (``load_s=0.0``), with the same rows counted from the store."""
    first, progress = run("stats.py", *SMALL, "--no-exports", "--keep")
    found = re.search(r"--store '(sqlite:///(\S+)/bench\.db)'", progress)
    assert found, progress
    url, folder = found.group(1), Path(found.group(2))
    try:
        again, progress = run(
            "stats.py", "--store", url, "--db", "postgres", "--repeat", "2", "--ticks", "1"
        )  # the store says which database it is
        assert "[stats] loaded" not in progress
        assert again["load_s"] == "0.0" and again["tallies_s"] == "0.0"
        assert again["db"] == "sqlite"
        assert (again["signups"], again["reports"]) == (first["signups"], first["reports"])
        float(again["p95_ms"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_help_names_the_result_line() -> None:
    done = subprocess.run(
        [sys.executable, "bench/stats.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "RESULT" in done.stdout and "--db" in done.stdout


@pytest.mark.postgres
def test_the_store_is_vacuumed_as_autovacuum_would(tmp_path: Path) -> None:
    """``town.vacuum`` clears the dead rows of the store's own tables (a bench schema), as a
    server's autovacuum would after the catch-up; the benchmark skips it on ``--no-vacuum``."""
    import psycopg

    sys.path.insert(0, str(ROOT / "bench"))
    import town

    from tests.conftest import database_for

    with database_for("postgres", tmp_path) as url:
        libpq = re.sub(r"^postgresql\+\w+://", "postgresql://", url)
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute("CREATE TABLE churn (id int)")
            connection.execute("INSERT INTO churn SELECT generate_series(1, 1000)")
            connection.execute("DELETE FROM churn")
            town.vacuum(url)
            connection.execute("SELECT pg_stat_clear_snapshot()")
            vacuumed = connection.execute(
                "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema() AND relname = 'churn'"
            ).fetchone()
    assert vacuumed == (True,)
    help_text = subprocess.run(
        [sys.executable, "bench/stats.py", "--help"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "--no-vacuum" in help_text
