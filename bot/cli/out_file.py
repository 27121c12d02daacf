"""The file a command writes (``--out``): checked before the work, written whole or not at all.

A missing folder or a name that is a folder is bad input (exit 2, one line) found before the
statistics are counted, not an error after them; the file is written to a temporary name in
the same folder and renamed over the target, so an interrupted run leaves no half a file.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from bot.cli.errors import BadInput


def checked_out(command: str, out: str) -> Path:
    """``out`` as a path whose folder exists; BadInput naming what is wrong otherwise."""
    path = Path(out)
    folder = path.parent
    if path.is_dir():
        raise BadInput(f"{command}: --out {out} is a folder; give a file name")
    if not folder.is_dir():
        raise BadInput(f"{command}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise BadInput(f"{command}: the folder {folder} is not writable")
    return path


def _write_whole(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def write_out(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole (off the event loop)."""
    await asyncio.to_thread(_write_whole, path, data)
