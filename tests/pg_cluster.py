"""A throwaway PostgreSQL cluster of a test's own, which the test may stop and start.

The shared server (``VANDRA_TEST_POSTGRES_URL``) must never be restarted by a test: other
tests, and other work, use it. A test that needs PostgreSQL to go away and come back gets a
cluster of its own instead: ``initdb`` into a temporary folder, listening on 127.0.0.1 on a
free port (its socket in that folder), ``fsync`` off, one database ``vandra``. It is stopped
and removed afterwards, whatever happened.

The binaries are taken from ``VANDRA_TEST_POSTGRES_BIN``, else ``pg_config --bindir``, else the
newest ``/usr/lib/postgresql/*/bin``. Run as root, the cluster belongs to the ``postgres``
system user (``initdb`` refuses root) and the commands run through ``runuser``. When none of
that is possible the test skips and says why.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.postgres_needed import unavailable
from tests.test_run import free_port

DATABASE = "vandra"
START_TIMEOUT_S = 30


def postgres_bindir() -> Path | None:
    """Where initdb, pg_ctl and postgres are, or None."""
    configured = os.environ.get("VANDRA_TEST_POSTGRES_BIN")
    candidates = [Path(configured)] if configured else []
    pg_config = shutil.which("pg_config")
    if pg_config and not configured:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if result.returncode == 0:
            candidates.append(Path(result.stdout.strip()))
    if not configured:
        installed = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                           key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
        candidates += reversed(installed)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


class PostgresCluster:
    """One private cluster: ``url`` while it runs, ``stop()`` and ``start()`` at will."""

    def __init__(self, bindir: Path, root: Path, port: int, owner: str | None) -> None:
        self.bindir, self.root, self.port, self.owner = bindir, root, port, owner
        self.data = root / "data"
        self.log = root / "server.log"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / tool), *args]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner, "--", *command]
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        return subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True,
                              timeout=timeout)

    def init(self) -> str | None:
        """Create the cluster; why it could not be created, or None."""
        result = self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                           "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
        if result.returncode != 0:
            return f"initdb failed: {(result.stderr or result.stdout).strip()[-500:]}"
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# a test's throwaway cluster (tests/pg_cluster.py)\n"
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\n"
                "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n"
                "shared_buffers = 16MB\nmax_connections = 60\n"
            )
        return None

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        result = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w",
                           "-t", str(START_TIMEOUT_S), "start", timeout=START_TIMEOUT_S + 10)
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {result.stderr.strip()}\n{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back open transactions, close every connection)."""
        result = self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {result.stderr.strip()}")

    @property
    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def create_database(self) -> None:
        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A running private cluster with an empty database ``vandra``; stopped and removed after.
    Skips, saying why, when no PostgreSQL binaries are installed or initdb cannot run here."""
    bindir = postgres_bindir()
    if bindir is None:
        unavailable("no PostgreSQL binaries (initdb, pg_ctl, postgres) found: set "
                    "VANDRA_TEST_POSTGRES_BIN to their folder")
    owner = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        owner = "postgres"
        if shutil.which("runuser") is None:
            unavailable("running as root, and runuser is missing: cannot run initdb as postgres")
        try:
            account = pwd.getpwnam(owner)
        except KeyError:
            unavailable("running as root, and there is no 'postgres' user to run initdb as")
    root = Path(tempfile.mkdtemp(prefix="vandra-pg-"))  # short: the socket path has a limit
    cluster = PostgresCluster(bindir, root, free_port(), owner)
    try:
        if owner is not None:
            os.chown(root, account.pw_uid, account.pw_gid)
        problem = cluster.init()
        if problem:
            unavailable(f"cannot create a private PostgreSQL cluster: {problem}")
        cluster.start()
        cluster.create_database()
        yield cluster
    finally:
        if cluster.data.exists() and cluster.running:
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
