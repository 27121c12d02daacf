"""The ticker: APScheduler asks the store "what is due now?" every ``tick_seconds``.

It holds no per-message jobs: everything due is derived from the database on each tick, so a
restart, a reconfiguration or a second process loses and repeats nothing. A tick that fails is
logged and the next one tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduling.common.context import Context

log = logging.getLogger("vandra.ticker")

TickStep = Callable[[Context], Awaitable[object]]


@dataclass
class Ticker:
    ctx: Context
    steps: list[tuple[str, TickStep]] = field(default_factory=list)
    last_tick_at: datetime | None = None
    last_tick_ok: bool = True
    ticks: int = 0
    _scheduler: AsyncIOScheduler | None = None

    def add_step(self, name: str, step: TickStep) -> None:
        """Run ``step(ctx)`` on every tick, in the order added."""
        self.steps.append((name, step))

    async def tick(self) -> dict[str, object]:
        """Run every step once; a failing step is logged and does not stop the others. The
        steps' transactions begin at their first write or lock and run one after another on
        one connection (``Store.begin_at_first_write``, ``Store.one_connection``)."""
        results: dict[str, object] = {}
        ok = True
        async with self.ctx.store.one_connection():
            for name, step in self.steps:
                ok = await self._run(name, step, results) and ok
        self.ticks += 1
        self.last_tick_at = self.ctx.now()
        self.last_tick_ok = ok
        return results

    async def _run(self, name: str, step: TickStep, results: dict[str, object]) -> bool:
        started = time.perf_counter()
        try:
            with self.ctx.store.begin_at_first_write():
                results[name] = await step(self.ctx)
        except Exception:
            log.exception("tick step %s failed; it runs again next tick", name)
            return False
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            if elapsed > 1000:
                log.warning("tick step %s took %.0f ms", name, elapsed)
        return True

    def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.ctx.settings.scheduling.tick_seconds,
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=None,
        )
        scheduler.start()
        scheduler.modify_job("tick", next_run_time=datetime.now(scheduler.timezone))
        self._scheduler = scheduler

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
