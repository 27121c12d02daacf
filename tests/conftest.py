"""Shared fixtures: settings, a controllable clock, and a store on SQLite and on PostgreSQL.

The PostgreSQL half runs against the real server (``VANDRA_TEST_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), each test in a schema of its own; with
no server reachable those tests skip and say why. A test that stops and starts PostgreSQL gets a
throwaway cluster of its own instead (``private_postgres``, ``tests/pg_cluster.py``).

A migrated store (``ctx``, ``database_for(..., migrated=True)``) is a copy of a template the
migrations ran on once per session (``tests/templates.py``; under pytest-xdist, as ``make test``
runs the suite, once per worker: each worker process has its own templates and schemas); a
test marked ``migrations`` has them run on its own database instead, and ``database_url`` /
``database_for`` alone give an empty one, for the tests of migrating itself.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from models.db import Store, upgrade
from scheduling.common.clock import ManualClock
from scheduling.common.config import Settings, settings_from_mapping
from scheduling.common.context import Context
from tests.pg_cluster import PostgresCluster, postgres_cluster
from tests.postgres_needed import unavailable
from tests.templates import Templates

POSTGRES_URL = os.environ.get(
    "VANDRA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# A Tuesday in late November 2026: the weekend's night shifts lie ahead.
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

_postgres_problem: str | bool | None = False  # False: not yet checked
TEMPLATES = Templates(POSTGRES_URL)  # the session's migrated templates, made on first use


def pytest_sessionfinish(session: pytest.Session) -> None:
    TEMPLATES.drop()


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can (checked once)."""
    global _postgres_problem
    if _postgres_problem is False:
        try:
            with psycopg.connect(_libpq_url(POSTGRES_URL), connect_timeout=3) as connection:
                connection.execute("SELECT 1")
            _postgres_problem = None
        except Exception as exc:
            _postgres_problem = f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}".strip()
    return _postgres_problem or None


def _libpq_url(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)  # psycopg's or asyncpg's


TEST_SECRET_KEY = "test-dashboard-signing-key-" + "0123456789abcdef" * 2


def make_settings(database_url: str, **sections: dict[str, Any]) -> Settings:
    """Settings for a test. Walkers who register through the bot may walk at once
    (``[walks] approval = "open"``) unless the test asks for approval: most tests are about
    something else; tests/test_approval.py is about approval."""
    data: dict[str, Any] = {"database": {"url": database_url}}
    data.update(sections)
    data["walks"] = {"approval": "open", **data.get("walks", {})}
    # the dashboard's signing key from the configuration, not a key file in the working tree
    data["http"] = {"secret_key": TEST_SECRET_KEY, **data.get("http", {})}
    return settings_from_mapping(data)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@contextmanager
def database_for(kind: str, folder: Path, *, migrated: bool = False) -> Iterator[str]:
    """A fresh database, empty or (``migrated``) a copy of the migrated template: a SQLite
    file in ``folder``, or a PostgreSQL schema of its own (dropped afterwards). Skips, saying
    why, when PostgreSQL cannot be reached."""
    with _database_for(kind, folder) as url:
        if migrated:
            TEMPLATES.copy_migrated(url)
        yield url


@contextmanager
def _database_for(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'vandra.db'}"
        return
    problem = postgres_unavailable()
    if problem:
        unavailable(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        TEMPLATES.drop_schema(schema)  # soon, on the thread of tests/templates.py


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test, on each of the two backends."""
    with database_for(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def private_postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of this test's own, running, with an empty database; the test may
    stop and start it. Removed afterwards; skips, saying why, when one cannot be made here."""
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def ctx(
    settings: Settings, clock: ManualClock, request: pytest.FixtureRequest
) -> AsyncIterator[Context]:
    """A context on a migrated, empty store, with the clock at T0: a copy of the migrated
    template, or, for a test marked ``migrations``, a database the migrations ran on."""
    real_migrations = request.node.get_closest_marker("migrations") is not None
    if not real_migrations:
        TEMPLATES.copy_migrated(settings.database.url)
    store = Store.open(settings.database.url)
    if real_migrations:
        await upgrade(store.engine)
    try:
        yield Context(store=store, settings=settings, clock=clock)
    finally:
        await store.close()
