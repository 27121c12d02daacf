"""A file written whole or not at all: written under a temporary name beside its target,
flushed to disk, then renamed over the target (one atomic step on the same file system), so
an interrupted backup or export leaves the old file, never half a new one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def partial_beside(out: Path) -> Path:
    """A temporary file beside ``out`` (its folder created if missing), so that the final
    rename is atomic."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(handle)
    return Path(name)


def fsync(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())


def write_whole(out: Path, data: bytes) -> None:
    """``data`` into ``out`` whole (readable by all, as a plain write would leave it)."""
    partial = partial_beside(out)
    try:
        partial.write_bytes(data)
        fsync(partial)
        partial.chmod(0o644)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
