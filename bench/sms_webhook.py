"""SMS webhook: signed Twilio inbound requests against vandra's HTTP app, served by uvicorn.

The server is the production ASGI app (``bot.bootstrap``'s, with the SMS routes: signature
check with twilio's RequestValidator, the dialogue, the store, TwiML out), served by uvicorn on
127.0.0.1 in a separate process, on a fresh database seeded with an organisation, shifts and
volunteers registered by phone. This process is the load generator: every request is an
inbound SMS as Twilio posts it (form fields, a fresh MessageSid, a valid ``X-Twilio-Signature``
over ``public_url`` + path), signed before the clock starts. Bodies cycle through ``PASS``,
``JA <shift id>``, ``MINA`` and ``HJÄLP`` from many different phones.

Two phases, each of ``--requests`` requests (``--steady-requests`` for the second):

1. Full speed: ``--concurrency`` requests in flight, each sent as soon as one is answered.
   ``requests_per_s`` is requests divided by the phase's duration (``full_p50_ms`` and
   ``full_p99_ms`` are the latencies under that load).
2. Steady rate: one request every 1/``--rate`` seconds (100 requests/s by default), whatever the
   answers do. Latency counts from the moment a request was due, so a server that falls
   behind is not flattered by a client that waits (no coordinated omission). ``p50_ms`` and
   ``p99_ms`` (also ``p99_ms_at_100rps`` at the default rate) are this phase's; target:
   p99 < 50 ms.

Every answer must be 200 with TwiML; ``errors`` counts those that were not. The last line of
stdout is ``RESULT key=value ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from fakes.twilio_server import (  # noqa: E402
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    signed_inbound_form,
)

DEFAULT_REQUESTS = 2000
DEFAULT_CONCURRENCY = 16
DEFAULT_RATE = 100.0
DEFAULT_POSTGRES_URL = os.environ.get(
    "VANDRA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PUBLIC_URL = "https://vandra.example.se"
PHONES = 500
SHIFTS = 24
REQUEST_TIMEOUT_S = 10.0
TARGET_P99_MS = 50.0

log = logging.getLogger("bench.sms_webhook")


def progress(text: str) -> None:
    print(f"[sms_webhook] {text}", file=sys.stderr, flush=True)


def phone(n: int) -> str:
    return f"+4670{1_000_000 + n:07d}"


def settings_for(url: str) -> Any:
    from scheduling.common.config import settings_from_mapping

    return settings_from_mapping(
        {
            "database": {"url": url},
            "http": {"public_url": PUBLIC_URL},
            "sms": {
                "account_sid": TEST_ACCOUNT_SID,
                "auth_token": TEST_AUTH_TOKEN,
                "from_number": TEST_FROM_NUMBER,
            },
            "logging": {"level": "WARNING"},
        }
    )


# --------------------------------------------------------------------------- the database


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextlib.contextmanager
def database(kind: str, postgres_url: str) -> Iterator[str]:
    """A fresh database: a SQLite file in a temporary folder, or a PostgreSQL schema."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="vandra-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(postgres_url), autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in postgres_url else "?"
        yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(libpq(postgres_url), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def seed(url: str, phones: int) -> list[int]:
    """Migrate, then an organisation, an area, shifts and SMS volunteers with consent."""
    from models.db import Store, upgrade
    from scheduling.common.clock import SystemClock
    from scheduling.common.context import Context
    from scheduling.people import directory
    from scheduling.people.access import Actor
    from scheduling.walks import shifts

    settings = settings_for(url)
    store = Store.open(settings.database.url)
    try:
        await upgrade(store.engine)
        ctx = Context(store=store, settings=settings, clock=SystemClock())
        operator = Actor.operator()
        org = await directory.add_organisation(ctx, operator, "IFK Kalmar")
        area = await directory.add_area(
            ctx, operator, "Kalmar C & Baronen", meeting_point="Kalmar C"
        )
        first = (ctx.now() + timedelta(days=2)).astimezone(ctx.zone)
        first = first.replace(hour=21, minute=0, second=0, microsecond=0, tzinfo=None)
        shift_ids: list[int] = []
        for n in range(SHIFTS):
            start = first + timedelta(days=n)
            spec = shifts.ShiftSpec(
                organisation=org.id or 0,
                area=area.id or 0,
                start=start,
                end=start + timedelta(hours=4),
            )
            shift_ids += [s.id or 0 for s in await shifts.create_shifts(ctx, operator, spec)]
        for n in range(phones):
            person = await directory.add_person(
                ctx, operator, name=f"Volontär {n}", phone=phone(n), organisation=org.id
            )
            await directory.record_consent(ctx, person.id or 0)
        return shift_ids
    finally:
        await store.close()


# --------------------------------------------------------------------------- the server


def serve(url: str, ready: Connection) -> None:
    """The server process: vandra's HTTP app (SMS webhooks configured), on a free port."""
    import uvicorn

    from bot.bootstrap import bootstrap

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    vandra = bootstrap(settings_for(url))  # as `vandra run` builds it, with [sms] configured
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        vandra.http,
        log_level="warning",
        log_config=None,
        lifespan="off",
        access_log=False,
    )  # as `vandra run` serves it
    started = threading.Event()

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            started.set()

    server = Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        await asyncio.wait(
            {task, asyncio.create_task(asyncio.to_thread(started.wait, 60))},
            return_when=asyncio.FIRST_COMPLETED,
        )
        started.set()  # releases the waiting thread if the server failed instead
        ready.send(sock.getsockname()[1] if server.started else 0)
        await task
        await vandra.close()

    asyncio.run(main())


@contextlib.contextmanager
def server_process(url: str) -> Iterator[str]:
    """Run :func:`serve` in a child process; yield its base URL; stop it (SIGTERM) after."""
    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe(duplex=False)
    process = spawn.Process(target=serve, args=(url, child), name="vandra-sms-server")
    process.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("the server did not start within 60 s")
        port = parent.recv()
        if not port:
            raise RuntimeError("the server failed to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.is_alive():
            process.terminate()  # uvicorn stops gracefully on SIGTERM
            process.join(15)
        if process.is_alive():
            process.kill()
            process.join(5)


# --------------------------------------------------------------------------- the client


@dataclass(frozen=True)
class Signed:
    headers: dict[str, str]
    form: dict[str, str]


def signed_requests(count: int, shift_ids: list[int], phones: int, offset: int) -> list[Signed]:
    """Inbound SMS as Twilio posts them: PASS, JA <id>, MINA, HJÄLP from many phones."""
    out = []
    for n in range(offset, offset + count):
        sender = n % phones
        body = ("PASS", f"JA {shift_ids[sender % len(shift_ids)]}", "MINA", "HJÄLP")[n % 4]
        headers, form = signed_inbound_form(
            TEST_AUTH_TOKEN, f"{PUBLIC_URL}/sms/inbound", phone(sender), body
        )
        out.append(Signed(headers, form))
    return out


@dataclass
class Phase:
    requests: int
    seconds: float
    latencies_s: list[float]
    errors: int

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_s:
            return 0.0
        ordered = sorted(self.latencies_s)
        index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
        return ordered[index] * 1000


async def post(client: httpx.AsyncClient, request: Signed) -> bool:
    try:
        response = await client.post("/sms/inbound", data=request.form, headers=request.headers)
    except httpx.HTTPError as error:
        log.warning("request failed: %r", error)
        return False
    return response.status_code == 200 and response.text.startswith("<?xml")


async def full_speed(
    client: httpx.AsyncClient, requests: list[Signed], concurrency: int, deadline: float
) -> Phase:
    queue = list(reversed(requests))
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while queue and time.monotonic() < deadline:
            request = queue.pop()
            sent = time.monotonic()
            ok = await post(client, request)
            latencies.append(time.monotonic() - sent)
            errors += not ok

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return Phase(len(latencies), time.monotonic() - started, latencies, errors)


async def steady(
    client: httpx.AsyncClient, requests: list[Signed], rate: float, deadline: float
) -> Phase:
    latencies: list[float] = []
    errors = 0

    async def one(request: Signed, due: float) -> None:
        nonlocal errors
        ok = await post(client, request)
        latencies.append(time.monotonic() - due)
        errors += not ok

    started = time.monotonic()
    tasks = []
    for n, request in enumerate(requests):
        due = started + n / rate
        if due > deadline:
            break
        if (wait := due - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(request, due)))
        if n and n % int(rate * 5) == 0:
            progress(f"steady: {n}/{len(requests)} sent")
    await asyncio.gather(*tasks)
    return Phase(len(latencies), time.monotonic() - started, latencies, errors)


async def load(base_url: str, args: argparse.Namespace, shift_ids: list[int]) -> dict[str, str]:
    phones = min(PHONES, max(args.requests, args.steady_requests))
    fast = signed_requests(args.requests, shift_ids, phones, 0)
    slow = signed_requests(args.steady_requests, shift_ids, phones, args.requests)
    limits = httpx.Limits(max_connections=max(args.concurrency, 64), max_keepalive_connections=64)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        warm = signed_requests(min(20, args.requests), shift_ids, phones, 10**6)
        for request in warm:  # connections, caches, the first compilations
            await post(client, request)
        deadline = time.monotonic() + args.timeout
        progress(f"full speed: {len(fast)} requests, {args.concurrency} in flight")
        first = await full_speed(client, fast, args.concurrency, deadline)
        progress(f"full speed: {first.per_s:.0f} requests/s")
        progress(f"steady: {len(slow)} requests at {args.rate:g}/s")
        second = await steady(client, slow, args.rate, deadline)
    if first.requests < len(fast) or second.requests < len(slow):
        raise SystemExit("bench/sms_webhook.py: ran out of time (--timeout) before the end")
    out = {
        "requests": str(first.requests),
        "requests_per_s": f"{first.per_s:.1f}",
        "p50_ms": f"{second.percentile_ms(0.5):.1f}",
        "p99_ms": f"{second.percentile_ms(0.99):.1f}",
        "rate": f"{args.rate:g}",
        "steady_requests": str(second.requests),
        "concurrency": str(args.concurrency),
        "full_p50_ms": f"{first.percentile_ms(0.5):.1f}",
        "full_p99_ms": f"{first.percentile_ms(0.99):.1f}",
        "errors": str(first.errors + second.errors),
        "db": args.db,
    }
    if args.rate == DEFAULT_RATE:
        out["p99_ms_at_100rps"] = out["p99_ms"]
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/sms_webhook.py",
        description=(
            "Signed Twilio inbound-SMS webhooks (PASS, JA <id>, MINA, HJÄLP) against vandra's "
            "HTTP app served by uvicorn on 127.0.0.1 in a separate process: requests per "
            "second with signature checking at full speed, and p50/p99 latency at a steady "
            f"rate (target: p99 < {TARGET_P99_MS:g} ms at 100 requests/s)."
        ),
        epilog=(
            "Output: progress on stderr; the last line of stdout is 'RESULT key=value ...' with "
            "requests, requests_per_s (full speed), p50_ms and p99_ms (at the steady rate), "
            "p99_ms_at_100rps (at the default rate), rate, steady_requests, concurrency, "
            "full_p50_ms, full_p99_ms, errors and db. "
            "Example: .venv/bin/python bench/sms_webhook.py --requests 500"
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--requests", type=int, default=DEFAULT_REQUESTS, help="requests in the full-speed phase"
    )
    parser.add_argument(
        "--steady-requests",
        type=int,
        default=argparse.SUPPRESS,
        help="requests in the steady phase (default: as many as --requests)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help="requests in flight in the full-speed phase",
    )
    parser.add_argument(
        "--rate", type=float, default=DEFAULT_RATE, help="requests per second in the steady phase"
    )
    parser.add_argument(
        "--db", choices=["sqlite", "postgres"], default="sqlite", help="the server's database"
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server for --db postgres; a fresh schema, dropped afterwards "
        "($VANDRA_TEST_POSTGRES_URL, as for the test suite, changes the default)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300, help="give up the measured phases after this long"
    )
    args = parser.parse_args(argv)
    if "steady_requests" not in vars(args):
        args.steady_requests = args.requests
    if args.requests < 1 or args.steady_requests < 1 or args.concurrency < 1 or args.rate <= 0:
        parser.error("--requests, --steady-requests, --concurrency and --rate must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    with database(args.db, args.postgres_url) as url:
        progress(f"seeding {args.db}: {SHIFTS} shifts, {PHONES} SMS volunteers")
        shift_ids = asyncio.run(seed(url, min(PHONES, max(args.requests, args.steady_requests))))
        with server_process(url) as base_url:
            progress(f"server at {base_url}")
            out = asyncio.run(load(base_url, args, shift_ids))
    print("RESULT " + " ".join(f"{key}={value}" for key, value in out.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
