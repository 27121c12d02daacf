"""What every use case is given: the store, the settings and a clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from models.db import Store
from scheduling.common.clock import Clock, SystemClock
from scheduling.common.config import Settings


@dataclass(frozen=True)
class Context:
    store: Store
    settings: Settings
    clock: Clock

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> Context:
        return cls(
            store=Store.open(settings.database.url), settings=settings, clock=clock or SystemClock()
        )

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    def now(self) -> datetime:
        return self.clock.now()
