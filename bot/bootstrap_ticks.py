"""The one list of tick steps, for every ticker vandra runs (`vandra run` and the demo)."""

from __future__ import annotations

from evaluation.followups.opening import open_follow_ups
from evaluation.followups.reminders import remind_open_follow_ups
from evaluation.morning.picture import queue_morning_picture
from evaluation.tally_refresh import tally_step
from scheduling.common.context import Context
from scheduling.messages.due import compute_due
from scheduling.people.retention import retention_step
from scheduling.walks.alarm_repeat import repeat_alarms
from scheduling.walks.approval import erase_rejected
from scheduling.walks.sharing import forget_shared_numbers
from scheduling.walks.signups import expire_offers
from scheduling.workers.dispatcher import Dispatcher
from scheduling.workers.ticker import Ticker, TickStep


def tick_steps(dispatcher: Dispatcher | None = None) -> list[tuple[str, TickStep]]:
    """Pass on unconfirmed offers, apply retention (rejected walkers at once, the rest once a
    day, however often it ticks), queue what is due and the repeats of open alarms, forget
    the numbers shared for shifts that are over, the follow-ups and their reminders, the
    morning picture, count the statistics' tallies of walks that ended or changed, wake the
    dispatcher (when there is one)."""
    steps: list[tuple[str, TickStep]] = [
        ("expire_offers", expire_offers),
        ("retention", _retention),
        ("due", compute_due),
        ("alarms", repeat_alarms),
        ("forget_shared_numbers", forget_shared_numbers),
        ("followups", _follow_ups),
        ("morning_picture", queue_morning_picture),
        ("tallies", tally_step),
    ]
    if dispatcher is not None:
        running = dispatcher

        async def wake_dispatcher(_ctx: Context) -> None:
            running.wake()

        steps.append(("dispatch", wake_dispatcher))
    return steps


async def _retention(ctx: Context) -> object:
    """Erase the walkers turned down once they were told (every tick); the rest of retention
    once a day."""
    await erase_rejected(ctx)
    return await retention_step(ctx)


async def _follow_ups(ctx: Context) -> int:
    """Open a follow-up for any flagged report the dialogue did not (a safety net), and
    remind the coordinators of those left open."""
    return await open_follow_ups(ctx) + await remind_open_follow_ups(ctx)


def make_ticker(ctx: Context, dispatcher: Dispatcher | None = None) -> Ticker:
    """A ticker running ``tick_steps`` in order."""
    ticker = Ticker(ctx)
    for name, step in tick_steps(dispatcher):
        ticker.add_step(name, step)
    return ticker
