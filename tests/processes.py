"""Starting ``vandra`` as a child process and waiting for a condition, for end-to-end tests."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path


async def vandra(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    """``python -m bot ARGS`` in ``cwd`` with ``env``; stdout discarded, stderr piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )


async def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
