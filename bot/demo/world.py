"""The demo's world: its settings, its fresh database, the seeded weekend, and vandra running
(built by ``bot.bootstrap``) against local stand-ins for Telegram and Twilio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bot.bootstrap import App, bootstrap
from bot.demo.cast import (
    COORDINATOR,
    LEAD,
    NEWCOMER,
    NEWCOMER_ID,
    PARTNERS,
    PUBLIC_URL,
    WALKERS,
)
from bot.demo.places_pay import DEMO_TIERS
from bot.demo.seed import seed
from fakes.telegram_server import FakeTelegramServer
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilioServer,
)
from models.db import upgrade
from scheduling.common.clock import ManualClock
from scheduling.common.config import Settings
from scheduling.common.context import Context
from scheduling.workers.limits import ChannelLimits

# The stand-ins answer at once: the demo sends as fast as they take it.
DEMO_LIMITS = {"telegram": ChannelLimits(200), "sms": ChannelLimits(200)}

@dataclass
class Demo:
    app: App
    clock: ManualClock
    tg: FakeTelegramServer
    twilio: FakeTwilioServer
    sms: httpx.AsyncClient
    people: dict[str, int] = field(default_factory=dict)
    shift_ids: list[int] = field(default_factory=list)
    database: Path = Path("data/demo.db")
    seen: set[tuple[int, int, int]] = field(default_factory=set)

    @property
    def ctx(self) -> Context:
        return self.app.ctx


# The story opens at midday, local time, whenever the demo is run: its first scenes (sign-ups,
# a waitlist seat offered) are daytime messages, which quiet hours would hold to the morning
# if the story began at the wall clock's 23:00.
STORY_OPENS_AT = time(12, 0)


def story_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Midday of ``now``'s local day, in UTC: the demo clock's first reading."""
    local_day = now.astimezone(zone).date()
    return datetime.combine(local_day, STORY_OPENS_AT, tzinfo=zone).astimezone(UTC)


def next_friday(today: date) -> date:
    """The coming Friday (a week on, when today is Friday or the weekend has begun)."""
    days = (4 - today.weekday()) % 7
    return today + timedelta(days=days or 7)


def fresh_database(database: Path) -> None:
    """Remove an earlier demo database (and its WAL files); make its folder."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)


def demo_settings(
    settings: Settings, database: Path, telegram_url: str, twilio_url: str
) -> Settings:
    data = settings.model_dump()
    data["database"] = {**data["database"], "url": f"sqlite:///{database}"}
    data["http"] = {**data["http"], "public_url": PUBLIC_URL}
    data["telegram"] = {
        **data["telegram"],
        "token": FakeTelegramServer().token,
        "api_base_url": telegram_url,
        "mode": "polling",
    }
    data["sms"] = {
        **data["sms"],
        "account_sid": TEST_ACCOUNT_SID,
        "auth_token": TEST_AUTH_TOKEN,
        "from_number": TEST_FROM_NUMBER,
        "api_base_url": twilio_url,
    }
    if data["payments"]["rate_per_walk"] is None and not data["payments"]["tiers"]:
        data["payments"] = {**data["payments"], "tiers": DEMO_TIERS}
    return Settings.model_validate(data)


@asynccontextmanager
async def running(settings: Settings, database: Path, now: datetime) -> AsyncIterator[Demo]:
    """The example world with its Telegram and SMS stand-ins, bot and dispatcher running."""
    async with FakeTelegramServer() as tg, FakeTwilioServer() as twilio:
        for walker in (*WALKERS, COORDINATOR, LEAD, *PARTNERS):
            if walker.telegram_id:
                tg.add_user(walker.telegram_id, walker.name.split()[0])
        tg.add_user(NEWCOMER_ID, NEWCOMER)
        clock = ManualClock(story_start(now, settings.zone))
        config = demo_settings(settings, database, tg.base_url, twilio.base_url)
        app = bootstrap(config, clock=clock, limits=DEMO_LIMITS)
        await upgrade(app.ctx.store.engine)
        sms = httpx.AsyncClient(transport=httpx.ASGITransport(app=app.http), base_url=PUBLIC_URL)
        assert app.telegram is not None  # configured above
        await app.telegram.start()
        try:
            friday = next_friday(clock.now().astimezone(app.ctx.zone).date())
            people, shift_ids = await seed(app.ctx, friday)
            yield Demo(app, clock, tg, twilio, sms, people, shift_ids, database)
        finally:
            await sms.aclose()
            await app.telegram.stop()
            await app.close()
