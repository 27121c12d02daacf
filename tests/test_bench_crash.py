"""The crash benchmark runs end to end at a tiny size (the full run is in docs/delivery.md).

``bench/crash.py --sms 10 --telegram 15 --kills 1`` as a subprocess from the repo root: it must
exit 0 and end with the RESULT line the issue lists, nothing lost, no SMS twice and Telegram
within the bound. No timing is asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = ["messages", "kills", "lost", "sms_duplicated", "telegram_duplicated", "max_in_flight"]


def test_the_crash_benchmark_at_a_tiny_size() -> None:
    """Exit 0; the last line is RESULT with the keys in order and the figures in bounds."""
    run = subprocess.run(
        [sys.executable, "bench/crash.py", "--sms", "10", "--telegram", "15", "--kills", "1",
         "--lease", "2s"],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT ")
    figures = dict(pair.split("=", 1) for pair in last.split()[1:])
    assert list(figures) == KEYS
    assert figures["messages"] == "25" and figures["kills"] == "1"
    assert figures["lost"] == "0" and figures["sms_duplicated"] == "0"
    assert int(figures["telegram_duplicated"]) <= 8


def test_the_crash_benchmark_has_help() -> None:
    """--help names the documented sizes."""
    run = subprocess.run(
        [sys.executable, "bench/crash.py", "--help"], cwd=ROOT, capture_output=True, text=True,
        timeout=60, check=True,
    )
    assert "default 800" in run.stdout and "default 1200" in run.stdout
