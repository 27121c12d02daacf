"""The alarm benchmark runs end to end at a tiny size (the real run: 20 alarms, 5,000 queued).

``bench/alarm.py --alarms 2 --queued 30 --gap-s 0.2`` as a subprocess from the repo root: it
must exit 0 (every alarm's first alert arrived) and end with a RESULT line carrying the keys
the issue lists. No timing is asserted (a CI machine may be slow).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_bench_broadcast import result_of

ROOT = Path(__file__).resolve().parents[1]


def test_tiny_alarm_bench(database_url: str) -> None:
    extra = () if database_url.startswith("sqlite") else ("--database-url", database_url)
    done = subprocess.run(
        [sys.executable, "bench/alarm.py", "--alarms", "2", "--queued", "30", "--gap-s", "0.2",
         *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = result_of(done.stdout)
    assert result.keys() >= {"alarms", "p50_ms", "p99_ms", "queued"}
    assert (result["alarms"], result["queued"], result["missed"]) == ("2", "30", "0")
    assert float(result["p99_ms"]) >= float(result["p50_ms"]) > 0
    help_text = subprocess.run(
        [sys.executable, "bench/alarm.py", "--help"], cwd=ROOT, capture_output=True, text=True,
        timeout=60, check=True,
    ).stdout
    assert "--queued" in help_text
