"""Benchmark: a broadcast to 5,000 people through the real Telegram client, at the Bot API's rate.

    python bench/broadcast.py                              # 5,000 recipients, 25/s, SQLite
    python bench/broadcast.py --recipients 500 --limit-per-s 50
    python bench/broadcast.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/empty

A local fake Bot API server (``fakes/telegram_server.py``, in its own thread with its own event
loop, so it does not compete with the bot's) answers ``sendMessage`` with 429 and
``retry_after`` beyond ``--limit-per-s`` (a token bucket holding one second's worth). vandra
runs as ``vandra run`` does: the python-telegram-bot Application of ``TelegramChannel`` (polling
the fake for updates), ``TelegramSender``, the real ``Dispatcher`` with its rate limiters
(``[telegram] max_messages_per_second`` set to the same figure, and one a second per chat) and
the real ``NotificationRenderer``. A coordinator's ``broadcast(ctx, actor, text, Audience())``
queues one outbox row per person (everyone: the coordinator is one of the recipients); the
clock starts when the dispatcher starts on the queued rows and stops at the last recipient's
first delivery, as the fake server recorded it.

Figures: ``achieved_per_s`` = recipients reached / seconds; ``ratio`` = achieved / limit
(target >= 0.95); ``lost`` = recipients the fake never delivered to (target 0);
``duplicated`` = recipients it delivered to more than once (target 0); ``rate_limited`` = 429s
the fake answered (rare: vandra paces itself, but honours them). Progress goes to stderr. A
run longer than ``--max-seconds`` (10 min) is aborted with exit code 1.

The last line is ``RESULT recipients=... limit_per_s=... achieved_per_s=... ratio=... lost=...
duplicated=... rate_limited=... seconds=...`` (then ``queue_s``, the time ``broadcast()`` took
to queue the rows, ``failed`` outbox rows and ``database``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_RECIPIENTS = 5_000
DEFAULT_LIMIT_PER_S = 25.0
DEFAULT_MAX_SECONDS = 600.0
TELEGRAM_ID_BASE = 500_000_000
CHUNK = 2_000
TEXT = (
    "Hej alla vandrare! Vi behöver fler vuxna ute i helgen, särskilt lördag natt vid Kalmar C. "
    "Anmäl dig med /pass. Tack för att ni ställer upp!"
)


class Aborted(Exception):
    """The run took longer than ``--max-seconds``."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Broadcast to many people through vandra's real Telegram client and dispatcher "
            "against a local fake Bot API that enforces a rate limit; report the achieved rate, "
            "lost and duplicated messages."
        ),
        epilog=(
            "The last line is: RESULT recipients=N limit_per_s=... achieved_per_s=... ratio=... "
            "lost=... duplicated=... rate_limited=... seconds=..."
        ),
    )
    parser.add_argument(
        "--recipients",
        type=_positive_int,
        default=DEFAULT_RECIPIENTS,
        help=f"people the broadcast goes to (default {DEFAULT_RECIPIENTS:,})",
    )
    parser.add_argument(
        "--limit-per-s",
        type=_positive_float,
        default=DEFAULT_LIMIT_PER_S,
        help=(
            "the fake Bot API's limit, messages a second (429 with retry_after beyond it); "
            f"vandra's [telegram] max_messages_per_second is set to the same (default "
            f"{DEFAULT_LIMIT_PER_S:g})"
        ),
    )
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL of an EMPTY database (default: a temporary SQLite file)",
    )
    parser.add_argument(
        "--max-seconds",
        type=_positive_float,
        default=DEFAULT_MAX_SECONDS,
        help=f"abort (exit 1) when the broadcast takes longer (default {DEFAULT_MAX_SECONDS:g})",
    )
    parser.add_argument(
        "--progress-every",
        type=_positive_int,
        default=500,
        help="print progress on stderr every N recipients reached (default 500)",
    )
    return parser.parse_args(argv)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def progress(text: str) -> None:
    print(f"broadcast: {text}", file=sys.stderr, flush=True)


@dataclass
class Figures:
    recipients: int
    limit_per_s: float
    reached: int
    lost: int
    duplicated: int
    rate_limited: int
    seconds: float
    queue_s: float
    failed: int

    @property
    def achieved_per_s(self) -> float:
        return self.reached / self.seconds if self.seconds > 0 else 0.0

    @property
    def ratio(self) -> float:
        return self.achieved_per_s / self.limit_per_s


# --- the world -------------------------------------------------------------------------------


def _people(count: int, now: datetime) -> list[dict[str, Any]]:
    """Person 1 is the coordinator who writes; everyone (the coordinator too) is on Telegram."""
    registered = now - timedelta(days=30)
    return [
        {
            "id": n,
            "name": f"Vandrare {n}",
            "telegram_id": TELEGRAM_ID_BASE + n,
            "preferred_channel": "telegram",
            "language": "sv" if n % 5 else "en",
            "role": "coordinator" if n == 1 else "volunteer",
            "trained": n % 4 == 0,
            "consent_at": registered,
            "approved_at": registered,
            "age_confirmed_at": registered,
            "sms_opted_out": False,
            "sms_unreachable": False,
            "telegram_blocked": False,
            "no_show_count": 0,
            "created_at": registered,
        }
        for n in range(1, count + 1)
    ]


async def seed(url: str, count: int) -> None:
    """The schema and ``count`` registered people, in an empty database."""
    from sqlalchemy import insert

    from models.db import Store, upgrade
    from models.tables import Person

    store = Store.open(url)
    try:
        await upgrade(store.engine)
        people = _people(count, datetime.now(UTC))
        async with store.engine.begin() as connection:
            for first in range(0, len(people), CHUNK):
                await connection.execute(insert(Person), people[first : first + CHUNK])
    finally:
        await store.close()


# --- the broadcast ---------------------------------------------------------------------------


async def run(args: argparse.Namespace, url: str, tg: Any) -> Figures:
    from sqlalchemy import func
    from sqlmodel import col, select

    from bot.bootstrap import bootstrap
    from models.tables import OutboxMessage, OutboxStatus, Person
    from scheduling.common.config import settings_from_mapping
    from scheduling.messages.broadcast import Audience, broadcast
    from scheduling.people.access import Actor

    settings = settings_from_mapping(
        {
            "database": {"url": url},
            "telegram": {
                "token": tg.token,
                "api_base_url": tg.base_url,
                "max_messages_per_second": args.limit_per_s,
            },
        }
    )
    app = bootstrap(settings)  # as `vandra run` builds it: the Telegram bot and its sender
    ctx, channel, dispatcher = app.ctx, app.telegram, app.dispatcher
    assert channel is not None
    dispatching: asyncio.Task[None] | None = None
    try:
        await channel.start()
        async with ctx.store.transaction() as session:
            coordinator = await session.get(Person, 1)
        assert coordinator is not None
        queued = time.perf_counter()
        sent = await broadcast(ctx, Actor.of(coordinator, "telegram"), TEXT, Audience())
        queue_s = time.perf_counter() - queued
        if sent.recipients != args.recipients:
            raise RuntimeError(f"the broadcast went to {sent.recipients}, not {args.recipients}")
        progress(f"{sent.recipients:,} messages queued in {queue_s:.2f} s; dispatching ...")

        started = time.monotonic()
        dispatching = asyncio.create_task(dispatcher.run(), name="dispatch")
        try:
            async with asyncio.timeout(args.max_seconds + 5):  # even if a query hangs
                await _watch(args, ctx, tg, dispatching, started)
        except TimeoutError:
            raise Aborted(f"aborted: no end after --max-seconds {args.max_seconds:g}") from None
        dispatcher.stop()
        await dispatching
        async with ctx.store.transaction() as session:
            result = await session.exec(
                select(func.count()).where(col(OutboxMessage.status) == OutboxStatus.FAILED)
            )
            failed = int(result.one())
    finally:
        if dispatching is not None and not dispatching.done():
            dispatcher.stop()
            try:
                await asyncio.wait_for(dispatching, 10)
            except Exception:  # aborting anyway: the first error is the one to see
                dispatching.cancel()
        await channel.stop()
        await app.close()
    tg.stop_thread()  # the fake's records are complete and stay readable
    return _figures(args, tg, started, queue_s, failed)


async def _watch(
    args: argparse.Namespace, ctx: Any, tg: Any, dispatching: asyncio.Task[None], started: float
) -> None:
    """Report progress until no outbox row is pending or being sent; abort past the bound.

    Progress comes from the fake's records; the outbox is asked (a short transaction, which
    on SQLite takes the write lock) only every two seconds and once everyone is reached.
    """
    from sqlalchemy import func
    from sqlmodel import col, select

    from models.tables import OutboxMessage, OutboxStatus

    mark = args.progress_every
    asked = started
    while True:
        await asyncio.sleep(0.25)
        now = time.monotonic()
        elapsed = now - started
        reached = len(tg.delivered)
        while reached >= mark:
            progress(
                f"{reached:,}/{args.recipients:,} reached after {elapsed:.1f} s "
                f"({reached / elapsed:.1f}/s; {tg.rate_limited} x 429)"
            )
            mark += args.progress_every
        if dispatching.done():
            dispatching.result()  # raises what stopped it
            raise RuntimeError("the dispatcher stopped by itself")
        if elapsed > args.max_seconds:
            raise Aborted(
                f"aborted after {elapsed:.0f} s (--max-seconds {args.max_seconds:g}): "
                f"{reached:,} of {args.recipients:,} recipients reached"
            )
        if reached < args.recipients and now - asked < 2.0:
            continue
        asked = now
        async with ctx.store.transaction() as session:
            result = await session.exec(
                select(func.count()).where(
                    col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
                )
            )
            if not result.one():
                return


def _figures(
    args: argparse.Namespace, tg: Any, started: float, queue_s: float, failed: int
) -> Figures:
    wanted = range(TELEGRAM_ID_BASE + 1, TELEGRAM_ID_BASE + args.recipients + 1)
    delivered: Counter[int] = tg.delivered
    firsts = [
        min(message.sent_at for message in tg.messages_to(chat))
        for chat in wanted
        if delivered[chat]
    ]
    seconds = (max(firsts) - started) if firsts else 0.0
    return Figures(
        recipients=args.recipients,
        limit_per_s=args.limit_per_s,
        reached=len(firsts),
        lost=sum(1 for chat in wanted if delivered[chat] == 0),
        duplicated=sum(1 for chat in wanted if delivered[chat] > 1),
        rate_limited=tg.rate_limited,
        seconds=seconds,
        queue_s=queue_s,
        failed=failed,
    )


def start_fake(recipients: int, limit_per_s: float) -> Any:
    from fakes.telegram_server import FakeTelegramServer

    tg = FakeTelegramServer(rate_limit_per_s=limit_per_s).start_in_thread()
    for n in range(1, recipients + 1):
        tg.add_user(TELEGRAM_ID_BASE + n, f"Vandrare {n}", "sv" if n % 5 else "en")
    return tg


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    expected = args.recipients / args.limit_per_s
    if expected > args.max_seconds:
        progress(
            f"{args.recipients:,} messages at {args.limit_per_s:g}/s take at least "
            f"{expected:.0f} s, more than --max-seconds {args.max_seconds:g}"
        )
        return 2
    with tempfile.TemporaryDirectory(prefix="vandra-bench-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        backend = url.split(":", 1)[0].split("+", 1)[0]
        progress(
            f"{args.recipients:,} recipients, Bot API limit {args.limit_per_s:g}/s "
            f"(about {expected:.0f} s), database {url.split('@')[-1]}"
        )
        asyncio.run(seed(url, args.recipients))
        tg = start_fake(args.recipients, args.limit_per_s)
        try:
            figures = asyncio.run(run(args, url, tg))
        except Aborted as error:
            progress(str(error))
            return 1
        finally:
            tg.stop_thread()
    print(
        f"{figures.reached:,} of {figures.recipients:,} reached in {figures.seconds:.1f} s: "
        f"{figures.achieved_per_s:.2f}/s of {figures.limit_per_s:g}/s "
        f"(ratio {figures.ratio:.3f}, target 0.95); lost {figures.lost}, duplicated "
        f"{figures.duplicated}, {figures.rate_limited} x 429"
    )
    print(
        f"RESULT recipients={figures.recipients} limit_per_s={figures.limit_per_s:g} "
        f"achieved_per_s={figures.achieved_per_s:.2f} ratio={figures.ratio:.3f} "
        f"lost={figures.lost} duplicated={figures.duplicated} "
        f"rate_limited={figures.rate_limited} seconds={figures.seconds:.1f} "
        f"queue_s={figures.queue_s:.2f} failed={figures.failed} database={backend}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
