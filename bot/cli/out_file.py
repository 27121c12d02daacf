"""The file a command writes (``--out``): checked before the work, written whole or not at all.

A missing folder or a name that is a folder is bad input (exit 2, one line) found before the
statistics are counted, not an error after them; the file is written whole
(``models/whole_files.py``, as backups are), so an interrupted run leaves no half a file.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bot.cli.errors import BadInput
from models.whole_files import write_whole


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


async def write_out(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole (off the event loop)."""
    await asyncio.to_thread(write_whole, path, data)
