"""Heavy reads (statistics over years, exports) run off the event loop that serves webhooks.

``off_loop(ctx, work)`` runs ``work`` on one worker thread with an event loop of its own,
against a second store on the same database (``Store.open(url, reader=True)``): its own
SQLite connection, whose transactions take no write lock (WAL lets it read beside the
writer), or its own PostgreSQL pool. The caller's loop only waits for the result, so a request
that reads for seconds blocks webhooks no longer than the interpreter lock's switch interval
(5 ms) at a time. Permission checks and audit records stay with the caller, on its own store.

An in-memory SQLite store has no second connection to offer: there ``work`` runs in place.

The interpreter lock is not the only thing two threads share: a full run of the cyclic garbage
collector stops every thread, and while a heavy request holds hundreds of thousands of rows a
full run takes seconds. So the collector is paused while heavy work runs
(``collector_paused``): what the work makes is freed by reference counting when it is done
(rows and tallies hold no cycles), and a run after that finds little to walk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import replace
from typing import Any, TypeVar

from models.db import Store
from scheduling.common.context import Context

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_readers: dict[int, Store] = {}  # the caller's store's id -> its reader
_paused = 0  # heavy jobs running with the collector paused
_resume = False  # the collector was on when the first of them began


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the block runs (and any other such block)."""
    global _paused, _resume
    with _lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()


def _worker() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_loop.run_forever, name="vandra-reader", daemon=True)
            thread.start()
        return _loop


def shares_a_file(store: Store) -> bool:
    """The store's database can be opened a second time (not an in-memory SQLite)."""
    url = store.engine.url
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(url)


async def off_loop(ctx: Context, work: Callable[[Context], Coroutine[Any, Any, T]]) -> T:
    """``work(ctx)`` with ``ctx.store`` replaced by a reader, on the worker thread."""
    if not shares_a_file(ctx.store):
        with collector_paused():
            return await work(ctx)
    loop = _worker()
    key = id(ctx.store)
    url = ctx.store.engine.url.render_as_string(hide_password=False)
    with _lock:
        reader = _readers.get(key)
        if reader is None:
            reader = _readers[key] = Store.open(url, reader=True)
            weakref.finalize(ctx.store, _forget, key)
    future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(
        work(replace(ctx, store=reader)), loop
    )
    with collector_paused():
        return await asyncio.wrap_future(future)


def _forget(key: int) -> None:
    """The caller's store is gone: close its reader on the worker's loop."""
    with _lock:
        reader = _readers.pop(key, None)
    if reader is not None and _loop is not None and not _loop.is_closed():
        _loop.call_soon_threadsafe(lambda: _loop and _loop.create_task(reader.close()))


async def close_reader(store: Store) -> None:
    """Close the reader opened for ``store`` (if any), e.g. when the app shuts down."""
    with _lock:
        reader = _readers.pop(id(store), None)
    if reader is not None and _loop is not None:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(reader.close(), _loop))
