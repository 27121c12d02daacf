"""Update handling: volunteers signing up through the real Telegram client, against the fake.

Each volunteer is pre-registered (added by the operator with a Telegram id, consent recorded).
In the measured phase each one sends ``/start pass_<shift id>`` (the deep link), gets the shift
card, and presses its "Anmäl mig" button, which answers with the "anmäld" confirmation: two
updates per volunteer, each answered by exactly one message.

The bot is vandra's own ``TelegramChannel`` (python-telegram-bot's Application in polling mode,
vandra's handlers and dialogue, the store; different people's updates handled concurrently,
each person's in order) in this process's main event loop, on a fresh database: a SQLite file
in a temporary folder, or a schema of its own on the PostgreSQL server, dropped afterwards,
reached through ``--driver`` (psycopg, the driver docs/deploy.md configures, unless told
asyncpg). The fake Bot API (``fakes/telegram_server.py``) runs in a thread of its own with its own
loop, and the load driver in a third thread; all three share one interpreter (one GIL), so
with the fake answering at once the run measures CPU per update. ``--api-latency-ms`` holds
every Bot API answer as a network round trip to Telegram would. A fixed number of volunteers
are in flight at once (``--concurrency``): each sends its next update as soon as the answer
to the previous one has arrived.

Latency is measured per update from the moment the driver injects it into the fake (a
``getUpdates`` answer can carry it from then on) to the moment the bot's reply reaches the fake
(the fake's own ``sent_at`` record). Throughput is all updates divided by the time from the
first injection to the last reply. It includes getUpdates round trips, the dialogue, the
database, sendMessage and answerCallbackQuery, exactly as in production.

In the same run a bare python-telegram-bot echo bot (``Application`` with PTB's defaults, so one
update at a time, and one ``MessageHandler`` replying with the same text) gets the same number
of updates (two text messages per simulated user, the same users in flight), against a fresh
instance of the same fake, driven the same way; ``ratio`` is vandra's rate divided by the echo
bot's (target: at least 0.5). The echo bot runs before and after each vandra run, and a
database's ratio is to the mean rate of the two echo runs around it (``echo_updates_per_s_<db>``),
so a machine whose speed drifts during the run (as a shared VM's does) does not bias a ratio.

The last line of stdout is ``RESULT key=value ...``. With both databases the headline keys
(``updates_per_s ratio p50_ms p99_ms db``) are SQLite's (``db=sqlite``), and every figure is also
given per database with a suffix (``updates_per_s_sqlite``, ``updates_per_s_postgres``, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import re
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.bootstrap import bootstrap  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.runtime import server_collector  # noqa: E402
from fakes.telegram_server import FakeTelegramServer, SentMessage  # noqa: E402
from models.db import upgrade  # noqa: E402
from scheduling.common.config import settings_from_mapping  # noqa: E402
from scheduling.common.context import Context  # noqa: E402
from scheduling.people import directory  # noqa: E402
from scheduling.people.access import Actor  # noqa: E402
from scheduling.walks import shifts  # noqa: E402

DEFAULT_VOLUNTEERS = 1000
DEFAULT_CONCURRENCY = 50
DEFAULT_POSTGRES_URL = os.environ.get(
    "VANDRA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SEATS_PER_SHIFT = 8
FIRST_USER_ID = 7_100_000_001
ECHO_FIRST_USER_ID = 7_200_000_001
WARMUP_USERS = 10
TARGET_RATIO = 0.5


def progress(text: str) -> None:
    print(f"[updates] {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the driver


Inject = Callable[[FakeTelegramServer, int, SentMessage | None], None]


@dataclass
class Script:
    """What each simulated user does: one injection per step, each answered by one message."""

    steps: list[Inject]
    check: Callable[[SentMessage], bool]  # the last answer is right


@dataclass
class Measured:
    updates: int
    seconds: float
    latencies_s: list[float] = field(default_factory=list)
    completed: int = 0
    wrong_answers: int = 0
    loop_cpu_s: float = 0.0  # the bot's event loop thread's CPU time over the measured phase

    @property
    def loop_ms_per_update(self) -> float:
        return self.loop_cpu_s * 1000 / self.updates if self.updates else 0.0

    @property
    def per_s(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_s:
            return 0.0
        ordered = sorted(self.latencies_s)
        index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
        return ordered[index] * 1000


class Driver:
    """Keeps ``concurrency`` users in flight; runs in a thread of its own with its own loop.

    It waits on the fake with a single ``wait_until`` (the condition is checked on the fake's
    loop whenever its state changes), so waiting costs the fake one cheap check per change
    rather than one task per waiting user.
    """

    def __init__(
        self,
        tg: FakeTelegramServer,
        users: list[int],
        script: Script,
        concurrency: int,
        deadline_s: float,
        label: str,
    ) -> None:
        self.tg = tg
        self.users = users
        self.script = script
        self.concurrency = max(1, concurrency)
        self.deadline_s = deadline_s
        self.label = label
        # user -> (step index, injected at, messages to the user before this step)
        self.inflight: dict[int, tuple[int, float, int]] = {}

    def run(self) -> Measured:
        return asyncio.run(self._run())

    def _inject(self, user: int, step: int, previous: SentMessage | None) -> None:
        before = self.tg.delivered[user]
        at = time.monotonic()
        self.script.steps[step](self.tg, user, previous)
        self.inflight[user] = (step, at, before)

    def _answered(self) -> bool:
        delivered = self.tg.delivered
        return any(delivered[user] > before for user, (_, _, before) in self.inflight.items())

    async def _run(self) -> Measured:
        tg, steps = self.tg, self.script.steps
        waiting = deque(self.users)
        latencies: list[float] = []
        completed = wrong = 0
        total = len(self.users) * len(steps)
        started = time.monotonic()
        last_reply = started
        deadline = started + self.deadline_s
        next_report = started + 2
        while waiting and len(self.inflight) < self.concurrency:
            self._inject(waiting.popleft(), 0, None)
        while self.inflight:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.label}: still {len(self.inflight)} users in flight")
            try:
                await tg.wait_until(self._answered, timeout=min(remaining, 30.0))
            except TimeoutError:
                raise TimeoutError(
                    f"{self.label}: no answer for 30 s; {len(self.inflight)} users in flight"
                ) from None
            for user, (step, at, before) in list(self.inflight.items()):
                if tg.delivered[user] <= before:
                    continue
                answer = tg.messages_to(user)[before]
                latencies.append(answer.sent_at - at)
                last_reply = max(last_reply, answer.sent_at)
                del self.inflight[user]
                if step + 1 < len(steps):
                    self._inject(user, step + 1, answer)
                    continue
                completed += 1
                if not self.script.check(answer):
                    wrong += 1
                if waiting:
                    self._inject(waiting.popleft(), 0, None)
            if time.monotonic() >= next_report:
                next_report += 2
                progress(f"{self.label}: {len(latencies)}/{total} updates answered")
        return Measured(
            updates=len(latencies),
            seconds=last_reply - started,
            latencies_s=latencies,
            completed=completed,
            wrong_answers=wrong,
        )


def drive(
    tg: FakeTelegramServer,
    users: list[int],
    script: Script,
    concurrency: int,
    deadline_s: float,
    label: str,
) -> Measured:
    return Driver(tg, users, script, concurrency, deadline_s, label).run()


# --------------------------------------------------------------------------- scripts


def volunteer_script(shift_of: dict[int, int]) -> Script:
    def deep_link(tg: FakeTelegramServer, user: int, _: SentMessage | None) -> None:
        tg.send_text(user, f"/start pass_{shift_of[user]}")

    def sign_up(tg: FakeTelegramServer, user: int, card: SentMessage | None) -> None:
        assert card is not None
        tg.press_button(user, card.message_id, card.callback_data_for("Anmäl mig"))

    def signed_up(answer: SentMessage) -> bool:
        return "anmäld" in (answer.text or "")

    return Script(steps=[deep_link, sign_up], check=signed_up)


def help_script() -> Script:
    def ask(tg: FakeTelegramServer, user: int, _: SentMessage | None) -> None:
        tg.send_text(user, "/hjalp")

    return Script(steps=[ask], check=lambda answer: bool(answer.text))


def echo_script(steps: int) -> Script:
    def say(n: int) -> Inject:
        def inject(tg: FakeTelegramServer, user: int, _: SentMessage | None) -> None:
            tg.send_text(user, f"hej {user} {n}")

        return inject

    return Script(
        steps=[say(n) for n in range(steps)],
        check=lambda answer: (answer.text or "").startswith("hej "),
    )


# --------------------------------------------------------------------------- databases


def with_driver(url: str, driver: str) -> str:
    return re.sub(r"^postgresql(\+\w+)?://", f"postgresql+{driver}://", url)


def libpq(url: str) -> str:
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)  # psycopg's or asyncpg's


def postgres_problem(url: str) -> str | None:
    try:
        with psycopg.connect(libpq(url), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as error:
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''}"
    return None


@contextlib.contextmanager
def database(kind: str, postgres_url: str) -> Iterator[str]:
    """A fresh database: a SQLite file in a temporary folder, or a PostgreSQL schema."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="vandra-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(postgres_url), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in postgres_url else "?"
        yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(libpq(postgres_url), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def seed(ctx: Context, volunteers: list[int]) -> dict[int, int]:
    """Organisation, area, enough shifts for every volunteer to get a seat, and the people.

    Returns the shift each volunteer signs up for."""
    operator = Actor.operator()
    org = await directory.add_organisation(ctx, operator, "IFK Kalmar")
    area = await directory.add_area(ctx, operator, "Kalmar C & Baronen", meeting_point="Kalmar C")
    count = max(1, -(-len(volunteers) // SEATS_PER_SHIFT))
    first = (ctx.now() + timedelta(days=2)).astimezone(ctx.zone)
    first = first.replace(hour=21, minute=0, second=0, microsecond=0, tzinfo=None)
    shift_ids: list[int] = []
    for n in range(count):
        start = first + timedelta(days=n)
        spec = shifts.ShiftSpec(
            organisation=org.id or 0,
            area=area.id or 0,
            start=start,
            end=start + timedelta(hours=4),
            max_walkers=SEATS_PER_SHIFT,
        )
        shift_ids += [s.id or 0 for s in await shifts.create_shifts(ctx, operator, spec)]
    shift_of: dict[int, int] = {}
    for n, user in enumerate(volunteers):
        person = await directory.add_person(
            ctx, operator, name=f"Volontär {n}", telegram_id=user, organisation=org.id
        )
        await directory.record_consent(ctx, person.id or 0)
        shift_of[user] = shift_ids[n // SEATS_PER_SHIFT]
        if (n + 1) % 250 == 0:
            progress(f"registered {n + 1}/{len(volunteers)} volunteers")
    return shift_of


# --------------------------------------------------------------------------- the runs


@dataclass
class Options:
    volunteers: int
    concurrency: int
    deadline_s: float
    latency_s: float = 0.0


async def run_vandra(kind: str, url: str, options: Options) -> Measured:
    volunteers = [FIRST_USER_ID + n for n in range(options.volunteers)]
    warmup = [FIRST_USER_ID - 1 - n for n in range(WARMUP_USERS)]
    with FakeTelegramServer(latency_s=options.latency_s) as tg:
        for user in (*volunteers, *warmup):
            tg.add_user(user, f"V{user % 100000}")
        settings = settings_from_mapping(
            {
                "database": {"url": url},
                "telegram": {"token": tg.token, "api_base_url": tg.base_url},
                "logging": {"level": "WARNING"},
            }
        )
        app = bootstrap(settings)  # as `vandra run` builds it: the Telegram bot, the dialogue
        try:
            await upgrade(app.ctx.store.engine)
            progress(f"{kind}: seeding {len(volunteers)} volunteers")
            shift_of = await seed(app.ctx, volunteers)
            assert app.telegram is not None
            with server_collector():  # as `vandra run` serves
                measured = await _measure_vandra(kind, tg, app.telegram, shift_of, options)
        finally:
            await app.close()
        if tg.violations:
            raise RuntimeError("Bot API violations:\n" + "\n".join(tg.violations[:10]))
    return measured


async def _measure_vandra(
    kind: str,
    tg: FakeTelegramServer,
    channel: TelegramChannel,
    shift_of: dict[int, int],
    options: Options,
) -> Measured:
    """Warm up, then drive every volunteer through the running bot."""
    await channel.start()
    try:
        warmup = [FIRST_USER_ID - 1 - n for n in range(WARMUP_USERS)]
        await asyncio.to_thread(
            drive, tg, warmup, help_script(), WARMUP_USERS, 60, f"{kind} warm-up"
        )
        progress(f"{kind}: measuring {len(shift_of)} volunteers")
        return await loop_timed(
            drive,
            tg,
            list(shift_of),
            volunteer_script(shift_of),
            options.concurrency,
            options.deadline_s,
            f"vandra/{kind}",
        )
    finally:
        await channel.stop()


async def loop_timed(run: Callable[..., Measured], *args: object) -> Measured:
    """``run`` (a driver) on a thread, with the event loop thread's CPU time meanwhile."""
    started = time.thread_time()
    measured = await asyncio.to_thread(run, *args)
    measured.loop_cpu_s = time.thread_time() - started
    return measured


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


async def run_echo(options: Options, updates_per_user: int) -> Measured:
    return await run_text_bot(options, updates_per_user, _echo, ECHO_FIRST_USER_ID, "echo")


async def run_text_bot(
    options: Options,
    updates_per_user: int,
    handler: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]],
    first_user_id: int,
    label: str,
    concurrent_updates: int | None = None,
) -> Measured:
    """A bare python-telegram-bot ``Application`` answering text with ``handler`` (one update
    at a time, PTB's default, unless ``concurrent_updates``), measured on the echo script:
    the echo bot, and ``bench/db_floor.py``'s bots."""
    users = [first_user_id + n for n in range(options.volunteers)]
    warmup = [first_user_id - 1 - n for n in range(WARMUP_USERS)]
    with FakeTelegramServer(latency_s=options.latency_s) as tg:
        for user in (*users, *warmup):
            tg.add_user(user, f"{label[:1].upper()}{user % 100000}")
        builder = (
            Application.builder()
            .token(tg.token)
            .base_url(tg.bot_base_url)
            .base_file_url(tg.file_base_url)
        )
        if concurrent_updates is not None:
            builder = builder.concurrent_updates(concurrent_updates)
        app = builder.build()
        app.add_handler(MessageHandler(filters.TEXT, handler))
        with harness_frozen():
            await app.initialize()
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling()
            try:
                await asyncio.to_thread(
                    drive, tg, warmup, echo_script(1), WARMUP_USERS, 60, f"{label} warm-up"
                )
                progress(f"{label}: measuring {options.volunteers * updates_per_user} updates")
                measured = await loop_timed(
                    drive,
                    tg,
                    users,
                    echo_script(updates_per_user),
                    options.concurrency,
                    options.deadline_s,
                    label,
                )
            finally:
                await app.updater.stop()
                await app.stop()
                await app.shutdown()
            if tg.violations:
                raise RuntimeError("Bot API violations:\n" + "\n".join(tg.violations[:10]))
            return measured


@contextlib.contextmanager
def harness_frozen() -> Iterator[None]:
    """The harness's own objects (the fake's records, the drivers) out of the garbage
    collector's sight while the echo bot runs, as they are in vandra's runs (whose
    ``server_collector`` freezes what exists when it starts); the echo bot keeps Python's
    default collector settings."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/updates.py",
        description=(
            "Volunteers sign up through vandra's real Telegram client (python-telegram-bot, "
            "polling) against the local fake Bot API: updates per second and p50/p99 latency "
            "per database, and the ratio to a bare python-telegram-bot echo bot measured in the "
            f"same run (target: ratio >= {TARGET_RATIO})."
        ),
        epilog=(
            "Output: progress on stderr; the last line of stdout is 'RESULT key=value ...' with "
            "volunteers, updates, concurrency, updates_per_s, ratio, p50_ms, p99_ms (vandra, "
            "on the database named by db), api_latency_ms, echo_updates_per_s, echo_p50_ms, "
            "driver (PostgreSQL's, when it ran), "
            "echo_p99_ms, and per database updates_per_s_<db>, ratio_<db>, p50_ms_<db>, "
            "p99_ms_<db>, signed_up_<db> (volunteers who got 'anmäld'), loop_ms_<db> (the "
            "bot's event loop thread's CPU per update over the measured phase, echo_loop_ms the "
            "echo bot's) and echo_updates_per_s_<db>. The echo bot runs before and after each "
            "vandra run; a database's ratio is to the mean of the two. When both databases are "
            "measured the headline keys are SQLite's (db=sqlite). "
            "Example: .venv/bin/python bench/updates.py --volunteers 200 --db sqlite"
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--volunteers",
        type=int,
        default=DEFAULT_VOLUNTEERS,
        help="volunteers who sign up (two updates each)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help="volunteers in flight at once (each waits for its answer before its next update)",
    )
    parser.add_argument(
        "--db",
        choices=["auto", "sqlite", "postgres", "both"],
        default="auto",
        help="auto = both when a PostgreSQL server answers at --postgres-url, else sqlite",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server for --db postgres/both; each run uses a fresh schema, dropped afterwards "
        "($VANDRA_TEST_POSTGRES_URL, as for the test suite, changes the default)",
    )
    parser.add_argument(
        "--driver",
        choices=["asyncpg", "psycopg"],
        default="psycopg",
        help="the bot's PostgreSQL driver: the server is --postgres-url's, with this driver "
        "(psycopg, the one docs/deploy.md configures and the suite runs on; asyncpg, the "
        "second driver, costs the bot less CPU per statement)",
    )
    parser.add_argument(
        "--api-latency-ms",
        type=float,
        default=0,
        help="hold every Bot API answer this long, like the network to Telegram's servers "
        "(0: the local fake answers at once, which makes the run CPU-bound)",
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="give up a measured run after this many seconds"
    )
    args = parser.parse_args(argv)
    args.postgres_url = with_driver(args.postgres_url, args.driver)
    if args.volunteers < 1 or args.concurrency < 1:
        parser.error("--volunteers and --concurrency must be at least 1")
    return args


def choose_databases(choice: str, postgres_url: str) -> list[str]:
    if choice == "sqlite":
        return ["sqlite"]
    problem = postgres_problem(postgres_url)
    if choice in ("postgres", "both") and problem:
        raise SystemExit(f"bench/updates.py: PostgreSQL not reachable at {postgres_url}: {problem}")
    if choice == "auto" and problem:
        progress(f"note: PostgreSQL not reachable ({problem}); measuring SQLite only")
        print(f"note: PostgreSQL not reachable at {postgres_url}; SQLite only", flush=True)
        return ["sqlite"]
    return {"postgres": ["postgres"]}.get(choice, ["sqlite", "postgres"])


def fmt(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


async def main_async(args: argparse.Namespace) -> dict[str, str]:
    options = Options(args.volunteers, args.concurrency, args.timeout, args.api_latency_ms / 1000)
    kinds = choose_databases(args.db, args.postgres_url)

    async def measure_echo() -> Measured:
        progress(
            f"echo bot: {options.volunteers} users x 2 updates, concurrency {options.concurrency}"
        )
        measured = await run_echo(options, 2)
        progress(f"echo bot: {measured.per_s:.1f} updates/s")
        return measured

    # The echo bot runs before and after each vandra run (echo, vandra, echo, vandra, echo):
    # each database's ratio is to the mean of the two echo runs around it, so a machine whose
    # speed drifts during the run (a shared VM) biases no ratio.
    echoes = [await measure_echo()]
    results: dict[str, Measured] = {}
    echo_of: dict[str, Measured] = {}
    for kind in kinds:
        with database(kind, args.postgres_url) as url:
            results[kind] = await run_vandra(kind, url, options)
        measured = results[kind]
        progress(
            f"vandra/{kind}: {measured.per_s:.1f} updates/s, "
            f"p50 {measured.percentile_ms(0.5):.1f} ms, p99 {measured.percentile_ms(0.99):.1f} ms"
        )
        echoes.append(await measure_echo())
        echo_of[kind] = mean_of(echoes[-2], echoes[-1])
    headline = kinds[0]
    echo = echo_of[headline]
    out: dict[str, str] = {
        "volunteers": str(options.volunteers),
        "updates": str(results[headline].updates),
        "concurrency": str(options.concurrency),
    }

    def figures(measured: Measured, echo: Measured) -> dict[str, str]:
        return {
            "updates_per_s": fmt(measured.per_s),
            "ratio": f"{measured.per_s / echo.per_s:.2f}" if echo.per_s else "0",
            "p50_ms": fmt(measured.percentile_ms(0.5)),
            "p99_ms": fmt(measured.percentile_ms(0.99)),
            "signed_up": str(measured.completed - measured.wrong_answers),
            "loop_ms": f"{measured.loop_ms_per_update:.2f}",
        }

    out |= {
        k: v
        for k, v in figures(results[headline], echo).items()
        if k not in ("signed_up", "loop_ms")
    }
    out |= {
        "api_latency_ms": f"{args.api_latency_ms:g}",
        "echo_updates_per_s": fmt(echo.per_s),
        "echo_p50_ms": fmt(echo.percentile_ms(0.5)),
        "echo_p99_ms": fmt(echo.percentile_ms(0.99)),
        "echo_loop_ms": f"{echo.loop_ms_per_update:.2f}",
        "db": headline,
    }
    if "postgres" in kinds:
        out["driver"] = args.driver
    for kind in kinds:
        out |= {f"{k}_{kind}": v for k, v in figures(results[kind], echo_of[kind]).items()}
        out[f"echo_updates_per_s_{kind}"] = fmt(echo_of[kind].per_s)
    return out


def mean_of(before: Measured, after: Measured) -> Measured:
    """The echo bot's figures around one vandra run: updates over the two runs' time (the
    mean rate), and the latencies of both."""
    return Measured(
        updates=before.updates + after.updates,
        seconds=before.seconds + after.seconds,
        latencies_s=before.latencies_s + after.latencies_s,
        completed=before.completed + after.completed,
        wrong_answers=before.wrong_answers + after.wrong_answers,
        loop_cpu_s=before.loop_cpu_s + after.loop_cpu_s,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    out = asyncio.run(main_async(args))
    print("RESULT " + " ".join(f"{key}={value}" for key, value in out.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
