"""A doorbell per store: a use case that queued an alarm rings it, and the express lane of the
dispatcher in the same process (``scheduling/workers/express.py``) wakes at once instead of at
its next poll. Other processes find the rows at their own next poll."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from models.db import Store

# By the store's id (a Store is not hashable); a listener stops listening when its lane stops.
_LISTENERS: dict[int, list[Callable[[], None]]] = {}


def listen(store: Store, callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` whenever the bell of ``store`` rings; the returned function stops it."""
    callbacks = _LISTENERS.setdefault(id(store), [])
    callbacks.append(callback)

    def stop() -> None:
        if callback in callbacks:
            callbacks.remove(callback)
        if not callbacks:
            _LISTENERS.pop(id(store), None)

    return stop


def ring(store: Store) -> None:
    """Wake every listener of ``store`` (after the current task's next await)."""
    for callback in list(_LISTENERS.get(id(store), ())):
        try:
            asyncio.get_running_loop().call_soon(callback)
        except RuntimeError:  # no running loop: nobody can be listening
            return
