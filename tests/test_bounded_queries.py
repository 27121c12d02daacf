"""Heavy queries bounded: ranges beyond ``[evaluation] max_range_days`` are refused in the core,
chat, dashboard and command line; odd query values are a 400 (never a 500); and statistics run
off the event loop, so a slow one does not hold up the webhooks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.dialogue.engine import Dialogue
from bot.i18n import error_text
from evaluation import exports, payments
from evaluation import statistics as stats
from models.tables import Role
from scheduling.common.context import Context
from scheduling.common.errors import InvalidInput
from scheduling.people import directory
from scheduling.people.access import Actor
from tests.coord_data import DataSet
from tests.fakes.chat import Chat
from tests.helpers import OPERATOR, seed_org_area
from tests.test_cli import vandra as vandra  # the fixture, re-exported
from tests.test_dashboard import client as client  # the fixtures, re-exported
from tests.test_dashboard import data as data
from tests.test_dashboard import https_ctx as https_ctx
from tests.test_dashboard import person, sign_in

FIRST = date(2020, 1, 1)


def texts(key: str, /, **params: Any) -> str:
    return key


FOUR_YEARS_ON = date(2023, 12, 31)  # 1,461 days: beyond the default 1,096


async def test_core_refuses_a_range_beyond_the_configured_span(ctx: Context) -> None:
    """Statistics, payments and every export refuse more than max_range_days, saying so."""
    operator = Actor.operator()
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: stats.statistics(ctx, operator, FIRST, FOUR_YEARS_ON),
        lambda: payments.payment_basis(ctx, operator, FIRST, FOUR_YEARS_ON),
        *[
            lambda kind=kind: exports.build_export(
                ctx, operator, exports.ExportRequest(kind, FIRST, FOUR_YEARS_ON), texts
            )
            for kind in exports.KINDS
        ],
    ]
    for call in calls:
        with pytest.raises(InvalidInput) as refused:
            await call()
        assert refused.value.code == "range_too_long"
        assert refused.value.params == {"days": 1461, "max_days": 1096}
    message = error_text("sv", refused.value)
    assert "1461 dagar" in message and "högst 1096 dagar" in message
    assert "at most 1096 days" in error_text("en", refused.value)
    # the last day the span allows is fine
    report = await stats.statistics(ctx, operator, FIRST, date(2022, 12, 31))
    assert report.overall.planned == 0


async def test_the_span_comes_from_configuration(ctx: Context) -> None:
    evaluation = ctx.settings.evaluation.model_copy(update={"max_range_days": 31})
    short = Context(
        ctx.store, ctx.settings.model_copy(update={"evaluation": evaluation}), ctx.clock
    )
    await stats.statistics(short, Actor.operator(), date(2026, 1, 1), date(2026, 1, 31))
    with pytest.raises(InvalidInput, match="range_too_long"):
        await stats.statistics(short, Actor.operator(), date(2026, 1, 1), date(2026, 2, 1))


async def test_chat_statistics_over_a_long_range_answer_with_the_limit(ctx: Context) -> None:
    await seed_org_area(ctx)
    coordinator = await directory.add_person(
        ctx, OPERATOR, name="Maria", telegram_id=5005, role=Role.COORDINATOR
    )
    await directory.record_consent(ctx, coordinator.id or 0)
    chat = Chat(Dialogue(ctx), address="5005", telegram_id=5005, name="Maria")
    answer = await chat.command("stats", "2020-01-01 2023-12-31")
    assert "högst 1096 dagar" in answer


def test_command_line_export_over_a_long_range_exits_2(vandra, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = vandra(
        "export", "stats", "--from", "2020-01-01", "--to", "2023-12-31", "--out", "x.csv"
    )
    assert code == 2 and "1096" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.csv").exists()


ODD_QUERIES = [
    ("/dashboard/stats", {"from": "2020-01-01", "to": "2023-12-31"}, 400, "1096"),
    ("/dashboard/stats", {"from": "0001-01-01", "to": "0001-01-31"}, 400, "0001-01-01"),
    ("/dashboard/stats", {"from": "9999-12-01", "to": "9999-12-31"}, 400, "9999-12-01"),
    ("/dashboard/stats", {"from": "2026-02-30"}, 400, "2026-02-30"),
    ("/dashboard/stats", {"to": "99999-01-01"}, 400, "99999-01-01"),
    ("/dashboard/summary", {"month": "9999-12"}, 400, "9999-12"),
    ("/dashboard/summary", {"month": "0001-01"}, 400, "0001-01"),
    ("/dashboard/summary", {"month": "soon"}, 400, "soon"),
    ("/dashboard/", {"from": "9999-12-31"}, 400, "9999-12-31"),
    ("/dashboard/", {"from": "0001-01-01"}, 400, "0001-01-01"),
    ("/dashboard/reports", {"area": "99999999999999999999"}, 400, "99999999999999999999"),
    ("/dashboard/reports", {"org": "-1"}, 400, "-1"),
    ("/dashboard/reports", {"area": "två"}, 400, "två"),
    ("/dashboard/reports", {"from": "9999-12-31", "to": "0001-01-01"}, 400, "0001-01-01"),
    ("/dashboard/reports/99999999999999999999", {}, 404, ""),
    ("/dashboard/exports", {"from": "1-1-1"}, 400, "1-1-1"),
    ("/dashboard/export/signups.xlsx", {"from": "2020-01-01", "to": "2023-12-31"}, 400, "1096"),
    ("/dashboard/export/stats.csv", {"from": "0001-01-01", "to": "0001-01-02"}, 400, ""),
    ("/dashboard/export/stats.csv", {"from": "9999-12-30", "to": "9999-12-31"}, 400, ""),
]


async def test_odd_query_values_are_a_400_page_never_a_500(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """Out-of-range dates, huge or negative numbers and words get a page saying what is wrong."""
    await sign_in(https_ctx, client, await person(https_ctx, Role.COORDINATOR, None, "Maria"))
    for path, query, status, shown in ODD_QUERIES:
        answer = await client.get(path, params=query)
        assert answer.status_code == status, (path, query, answer.text[-500:])
        assert shown in answer.text, (path, query)


class LoopWatch:
    """A task sleeping 1 ms at a time; ``worst`` is the longest the loop kept it waiting."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last)
            last = now


async def watched(work: Awaitable[Any]) -> float:
    """How long the loop was blocked at most while ``work`` ran."""
    watch, stop = LoopWatch(), asyncio.Event()
    ticker = asyncio.create_task(watch.run(stop))
    await asyncio.sleep(0.01)
    try:
        await work
    finally:
        stop.set()
        await ticker
    return watch.worst


async def test_heavy_statistics_do_not_block_the_event_loop(
    ctx: Context, data: DataSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statistics request whose work takes 0.6 s of blocking time holds the loop up for far
    less: it runs in a worker process. (The same work in place blocks it the whole time.)"""
    count = stats.tally_statistics

    async def slow_count(*args: Any, **kwargs: Any) -> stats.StatsReport:
        time.sleep(0.6)  # noqa: ASYNC251 - a long computation: blocks whichever loop runs it
        return await count(*args, **kwargs)

    monkeypatch.setattr(stats, "tally_statistics", slow_count)
    nov = (date(2026, 11, 1), date(2026, 11, 30))
    in_place = await watched(stats.statistics_for(ctx, *nov))
    assert in_place >= 0.5  # the watch sees a blocked loop
    off_loop = await watched(stats.statistics(ctx, Actor.operator(), *nov))
    assert off_loop < 0.25, f"the loop was blocked {off_loop * 1000:.0f} ms"
