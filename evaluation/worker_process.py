"""The evaluation worker process's side of ``off_loop`` (off_loop.py): what runs in it.

A worker process keeps one event loop and one reader store between jobs (opened from the
database URL the job names; a job for another database closes the old one first), and runs a
job's coroutine on them with a context whose clock stands at the caller's "now". The cyclic
garbage collector is off while a job runs: its rows and tallies hold no cycles, and are freed
by reference counting when it ends; what the first job leaves is frozen (``_freeze_once``).
The process runs at a lower priority (``NICENESS``), so on a busy machine the operating system
lets the bot's process go first.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.db import Store
from scheduling.common.clock import ManualClock
from scheduling.common.config import Settings
from scheduling.common.context import Context


@dataclass(frozen=True)
class Job:
    """What a worker process needs for ``work(ctx, *args)``: all of it picklable, ``work`` a
    module-level coroutine function."""

    url: str
    settings: Settings
    now: datetime
    work: Callable[..., Coroutine[Any, Any, Any]]
    args: tuple[Any, ...]


_loop: asyncio.AbstractEventLoop | None = None
_frozen = False  # what the first job left is out of the collector's sight
_store: tuple[str, Store] | None = None


NICENESS = 10  # below the bot's own process: a webhook goes before a statistic


def lower_priority() -> None:
    """Run this worker process at a lower scheduling priority than the bot's."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICENESS)


def ready() -> bool:
    """Nothing: a first job that brings the process up (its imports) before it is needed."""
    return True


def run_job(job: Job) -> Any:
    """The job's result, computed in this process."""
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    gc.disable()
    try:
        return _loop.run_until_complete(_run(job))
    finally:
        gc.enable()
        _freeze_once()


def _freeze_once() -> None:
    """After the first job, what exists (modules, the store, the ORM's mappers and statement
    caches) lives as long as the process: it is moved out of the cyclic garbage collector's
    sight (``gc.freeze``, as ``bot.runtime.server_collector`` does in the bot), so a full
    collection no longer walks it. (It did after every dozen or so jobs, each 70-90 ms, in
    the big town's statistics: the slowest of them.)"""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


async def _run(job: Job) -> Any:
    store = await _store_for(job.url)
    ctx = Context(store=store, settings=job.settings, clock=ManualClock(job.now))
    return await job.work(ctx, *job.args)


async def _store_for(url: str) -> Store:
    global _store
    if _store is not None and _store[0] != url:
        old, _store = _store[1], None
        await old.close()
    if _store is None:
        _store = (url, Store.open(url, reader=True))
    return _store[1]
