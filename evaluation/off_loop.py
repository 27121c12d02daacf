"""Heavy reads (statistics over years, exports) run in a worker process, off the event loop.

``off_loop(ctx, work, *args)`` runs ``work(reader, *args)`` in an evaluation worker process
(worker_process.py): a separate Python interpreter with its own interpreter lock, its own
event loop and its own store opened from the database URL (a SQLite reader takes no write
lock and reads beside the writer under WAL; on PostgreSQL a small pool of its own). The bot's
process only waits for the result, so however long the work converts rows, counts or writes
a file, the event loop serving webhooks is never held up by it. (A worker thread was not
enough: compiled row conversion, CSV writing and openpyxl hold the interpreter lock for tens
of milliseconds at a time, and a full garbage collection over the rows stopped every thread.)
``work`` is a module-level coroutine function and its arguments and result are pickled, so
results are kept small (a statistics report; an export's file is passed as a path).

The workers are started with ``spawn`` (the bot's process has threads, which ``fork`` would
copy in any state), ``[evaluation] worker_processes`` of them, on first use or by
``start_workers`` when vandra starts. A worker that died is replaced for the next job.
Permission checks and audit records stay with the caller, on its own store. An in-memory
SQLite store cannot be opened by another process: there ``work`` runs in place.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from evaluation.worker_process import Job, lower_priority, ready, run_job
from models.db import Store
from scheduling.common.context import Context

T = TypeVar("T")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def shares_a_file(store: Store) -> bool:
    """The store's database can be opened by another process (not an in-memory SQLite)."""
    url = store.engine.url
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(url)


def _workers(count: int) -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(
                max_workers=count, mp_context=context, initializer=lower_priority
            )
        return _pool


def start_workers(ctx: Context) -> None:
    """Bring the worker processes up now (their imports take a second or two), not at the
    first heavy request; returns at once."""
    if shares_a_file(ctx.store):
        pool = _workers(ctx.settings.evaluation.worker_processes)
        for _ in range(ctx.settings.evaluation.worker_processes):
            pool.submit(ready)


async def off_loop(ctx: Context, work: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """``work(reader_ctx, *args)`` in a worker process (in place on an in-memory store)."""
    if not shares_a_file(ctx.store):
        return await work(ctx, *args)
    url = ctx.store.engine.url.render_as_string(hide_password=False)
    job = Job(url, ctx.settings, ctx.now(), work, args)
    pool = _workers(ctx.settings.evaluation.worker_processes)
    try:
        result: T = await asyncio.wrap_future(pool.submit(run_job, job))
    except BrokenProcessPool:  # a worker died (killed, out of memory): a fresh pool next time
        _discard(pool)
        raise
    return result


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def stop_workers() -> None:
    """Stop the worker processes (they are started again by the next heavy request)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
