"""The key that signs dashboard login links and session cookies, from the configuration.

``[http] secret_key`` when set; else the file ``[http] secret_key_file`` (default
``data/secret_key``, relative to the working directory), made with a random key and mode 0600
the first time it is needed, atomically, so processes starting together agree on one key.
Never the database: a backup of the store cannot be used to mint sessions
(``docs/security.md``).
"""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path

from scheduling.common.config import Settings


def signing_key(settings: Settings) -> str:
    """The configured key, or the key file's (made on first use)."""
    configured = settings.http.secret_key
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return key_from_file(str(Path(settings.http.secret_key_file).resolve()))


@cache
def key_from_file(path: str) -> str:
    """The key in ``path``; a new random one written there if the file does not exist yet."""
    target = Path(path)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, target)  # fails if another process made it first: use theirs
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = target.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise ValueError(f"{path}: the dashboard key must be at least 32 characters")
    return key
