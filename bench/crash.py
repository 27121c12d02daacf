"""Benchmark: 2,000 messages by SMS and Telegram while `vandra run` is killed three times.

    python bench/crash.py                                   # 2,000 messages, 3 kills, SQLite
    python bench/crash.py --sms 50 --telegram 50 --kills 1  # a quick look
    python bench/crash.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/empty
    python bench/crash.py --processes 2 --kills 1 --no-restart --database-url ...  # two replicas

A coordinator's broadcast goes to ``--sms`` people reachable only by SMS and ``--telegram``
people reachable only by Telegram. `vandra run` sends it at the channels' rates (``[sms]
max_messages_per_second`` 10, ``[telegram]`` 25) through the fake Twilio API and the fake Bot
API (webhook mode), which answer ``--latency-ms`` (150) after a message took effect. At even
steps of progress the process gets SIGKILL and a new one is started, ``--kills`` (3) times;
the last one runs until every outbox row is sent. The run is ``fakes/crash_run.py``; the
lease (``[dispatch] lease``) is ``--lease`` (5s, not the default 30s, so that the run does not
spend its time waiting for leases to run out; the counts do not depend on it).

Figures: ``lost`` = people who never got the message (target 0); ``sms_duplicated`` = SMS sent
more than once (target 0: vandra asks Twilio what it accepted before sending again);
``telegram_duplicated`` = Telegram copies beyond the first (bound: ``kills`` x
``max_in_flight``, what was in flight at each kill). Progress and the details go to stderr;
the exit code is 1 when a figure misses its target or bound. The last line is ``RESULT
messages=... kills=... lost=... sms_duplicated=... telegram_duplicated=... max_in_flight=...``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

DEFAULT_SMS = 800
DEFAULT_TELEGRAM = 1_200
DEFAULT_KILLS = 3
DEFAULT_LATENCY_MS = 150
DEFAULT_MAX_IN_FLIGHT = 8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Send a broadcast by SMS and Telegram through `vandra run` against fake providers "
            "that answer late, kill the process (SIGKILL) several times, and count lost and "
            "duplicated messages."
        )
    )
    parser.add_argument("--sms", type=int, default=DEFAULT_SMS,
                        help=f"people reached by SMS (default {DEFAULT_SMS})")
    parser.add_argument("--telegram", type=int, default=DEFAULT_TELEGRAM,
                        help=f"people reached by Telegram (default {DEFAULT_TELEGRAM})")
    parser.add_argument("--kills", type=int, default=DEFAULT_KILLS,
                        help=f"SIGKILLs at even steps of progress (default {DEFAULT_KILLS})")
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS,
                        help="how long after accepting the fakes answer "
                             f"(default {DEFAULT_LATENCY_MS})")
    parser.add_argument("--max-in-flight", type=int, default=DEFAULT_MAX_IN_FLIGHT,
                        help=f"[dispatch] max_in_flight (default {DEFAULT_MAX_IN_FLIGHT})")
    parser.add_argument("--sms-per-s", type=float, default=10.0,
                        help="[sms] max_messages_per_second (default 10)")
    parser.add_argument("--telegram-per-s", type=float, default=25.0,
                        help="[telegram] max_messages_per_second (default 25)")
    parser.add_argument("--lease", default="5s", help="[dispatch] lease (default 5s)")
    parser.add_argument("--processes", type=int, default=1,
                        help="`vandra run` processes at once (default 1)")
    parser.add_argument("--no-restart", action="store_true",
                        help="do not replace a killed process (with --processes 2 or more)")
    parser.add_argument("--database-url", help="an EMPTY database (default: a temporary SQLite)")
    parser.add_argument("--max-seconds", type=float, default=900.0,
                        help="abort a run longer than this (default 900)")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, workdir: Path) -> int:
    from fakes.crash_run import CrashPlan, crash_run

    url = args.database_url or f"sqlite:///{workdir / 'crash.db'}"
    plan = CrashPlan(
        database_url=url, sms_people=args.sms, telegram_people=args.telegram,
        kills=args.kills, processes=args.processes, restart=not args.no_restart,
        latency_s=args.latency_ms / 1000,
        sms_per_s=args.sms_per_s, telegram_per_s=args.telegram_per_s,
        max_in_flight=args.max_in_flight, lease=args.lease, timeout_s=args.max_seconds,
    )
    print(f"crash run: {args.sms} by SMS, {args.telegram} by Telegram, {args.kills} kills, "
          f"{args.latency_ms:g} ms latency ...", file=sys.stderr, flush=True)
    result = await crash_run(plan, workdir)
    print(f"details: seconds={result.seconds:.1f} "
          f"telegram_most_copies={result.telegram_most_copies} statuses={result.statuses} "
          f"database={url.split(':', 1)[0].split('+')[0]}", file=sys.stderr)
    print(
        f"RESULT messages={result.messages} kills={result.kills} lost={result.lost} "
        f"sms_duplicated={result.sms_duplicated} "
        f"telegram_duplicated={result.telegram_duplicated} max_in_flight={result.max_in_flight}"
    )
    bound = result.kills * result.max_in_flight
    ok = result.lost == 0 and result.sms_duplicated == 0 and result.telegram_duplicated <= bound
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vandra-crash-") as folder:
        return asyncio.run(run(args, Path(folder)))


if __name__ == "__main__":
    sys.exit(main())
