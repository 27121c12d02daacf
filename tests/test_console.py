"""`vandra chat`: the dialogue in a terminal, options numbered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_chat_registers_and_lists_shifts(tmp_path: Path) -> None:
    """A newcomer registers by typing numbers and sees the seeded shifts, with no token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VANDRA_")}
    env["VANDRA_DATABASE_URL"] = f"sqlite:///{tmp_path / 'chat.db'}"

    def vandra(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=env,
            cwd=tmp_path,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert vandra("orgs", "add", "IFK Kalmar").returncode == 0
    assert vandra("areas", "add", "Baronen").returncode == 0
    assert (
        vandra(
            "shifts",
            "add",
            "--org",
            "1",
            "--area",
            "1",
            "--start",
            "2030-05-03 21:00",
            "--end",
            "2030-05-04 01:00",
        ).returncode
        == 0
    )
    result = vandra("chat", stdin="Anna Lindqvist\n1\n1\n1\n/pass\n1\n1\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "1) IFK Kalmar" in result.stdout
    assert "registrerad" in result.stdout
    assert "Pass 1:" in result.stdout and "anmäld" in result.stdout


def test_chat_as_an_unknown_name_refuses(tmp_path: Path) -> None:
    """`--as` with a name nobody has: exit 2, nothing registered."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VANDRA_")}
    env["VANDRA_DATABASE_URL"] = f"sqlite:///{tmp_path / 'chat.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--as", "Nobody Here"],
        env=env,
        cwd=tmp_path,
        input="/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "Nobody Here" in result.stderr
