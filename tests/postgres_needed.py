"""What a test does when PostgreSQL is not there: skip with the reason, except under CI.

CI sets ``CI=true``; there an unreachable server or missing server programs fail the run, so
the PostgreSQL half of the suite can never pass by skipping (docs/interface.md, "Tests").
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def required() -> bool:
    """Whether this run must have PostgreSQL: ``CI`` is set to a true value."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """Skip the test saying why, or, where PostgreSQL is required, fail it saying why."""
    if required():
        pytest.fail(f"{reason} (CI is set, so PostgreSQL must be available)", pytrace=False)
    pytest.skip(reason)
