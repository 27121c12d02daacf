"""Tiered payment ([payments] tiers) on the hand-built November (tests/coord_data.py): each
night's tier or why nothing, per organisation, month and season; bad tiers refused at start."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import col, update

from bot.cli.export import swedish
from evaluation import exports, payments
from models.tables import Report, Signup
from scheduling.common.context import Context
from scheduling.people.access import Actor
from tests.coord_data import DataSet, at, build
from tests.helpers import with_settings
from tests.test_cli import vandra as vandra  # the fixture, re-exported

OCT_1, NOV_30 = date(2026, 10, 1), date(2026, 11, 30)
TIERS = [{"min_walkers": 4, "amount": 2000}, {"min_walkers": 3, "amount": 1500}]


@pytest.fixture
async def tiered(ctx: Context) -> tuple[Context, DataSet]:
    data = await build(ctx)
    return with_settings(ctx, payments={"tiers": TIERS}), data


async def test_each_night_pays_its_tier_or_says_why_not(tiered: tuple[Context, DataSet]) -> None:
    """S1 (two checked in on time, a report says three) earns 1 500; S2 has no report and two
    walkers; S4 had nobody check in; S5 nothing at all; S3 cancelled; S6 not over."""
    ctx, data = tiered
    basis = await payments.payment_basis(ctx, Actor.operator(), OCT_1, NOV_30)
    s = data.shifts
    lines = {line.walk.shift_id: line for m in basis.months for line in m.lines}
    assert lines[s["S1"]].tier == payments.Tier(min_walkers=3, amount=1500)
    assert lines[s["S1"]].tier_amount == Decimal(1500)
    assert {sid: lines[sid].reasons for sid in (s["S2"], s["S3"], s["S4"], s["S5"], s["S6"])} == {
        s["S2"]: ("no_report", "below_tiers"),
        s["S3"]: ("cancelled",),
        s["S4"]: ("not_in_hours", "below_tiers"),
        s["S5"]: ("not_in_hours", "no_report", "below_tiers"),
        s["S6"]: ("not_over",),
    }
    by_month = {(m.organisation, m.month): m.amount for m in basis.months}
    assert by_month == {
        ("IFK Kalmar", "2026-10"): Decimal(0),
        ("IFK Kalmar", "2026-11"): Decimal(1500),
        ("Nattugglorna", "2026-11"): Decimal(0),
    }
    seasons = {(m.organisation, m.month): (m.amount, len(m.lines)) for m in basis.seasons}
    assert seasons == {
        ("IFK Kalmar", "2026-07 – 2026-12"): (Decimal(1500), 5),
        ("Nattugglorna", "2026-07 – 2026-12"): (Decimal(0), 2),
    }
    assert basis.total == Decimal(1500)


async def test_four_walkers_pay_the_top_tier_and_late_check_ins_do_not_count(
    tiered: tuple[Context, DataSet],
) -> None:
    """S1's report saying four reaches 2 000; S4's walker checking in after the planned end
    (03:30 for 23:00–03:00) does not make it held within its hours, even with a report of 4."""
    ctx, data = tiered
    s, p = data.shifts, data.people
    async with ctx.store.transaction() as session:
        await session.exec(update(Report).where(col(Report.shift_id) == s["S1"],
                                                col(Report.person_id) == p["P1"])
                           .values(walkers_present=4))
        await session.exec(update(Report).where(col(Report.shift_id) == s["S4"])
                           .values(walkers_present=4))
        await session.exec(update(Signup).where(col(Signup.shift_id) == s["S4"])
                           .values(checked_in_at=at("2026-11-15 03:30", ctx)))
    basis = await payments.payment_basis(ctx, Actor.operator(), OCT_1, NOV_30)
    lines = {line.walk.shift_id: line for m in basis.months for line in m.lines}
    assert lines[s["S1"]].tier_amount == Decimal(2000)
    assert lines[s["S4"]].reasons == ("not_in_hours",)


async def test_the_export_explains_each_night_in_words(tiered: tuple[Context, DataSet]) -> None:
    """The walk lines say which tier and why, or why nothing, in Swedish: no codes."""
    ctx, data = tiered
    request = exports.ExportRequest("payments", OCT_1, NOV_30)
    tables = await exports.build_export(ctx, Actor.operator(), request, swedish)
    assert [t.name for t in tables] == ["payments", "payment_walks", "payment_seasons"]
    raw = exports.render(tables, swedish, "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    why = {row[2]: row[-1] for row in rows if len(row) == 12 and row[2].isdigit()}
    s = data.shifts
    assert why[str(s["S1"])].startswith("3 vandrare på plats (2 incheckade i tid)")
    assert "minst 3 vandrare, 1500 kr" in why[str(s["S1"])]
    assert why[str(s["S4"])] == (
        "ingen vandrare checkade in under passets tid (från samlingen en timme före start "
        "till slut); 2 vandrare på plats: under lägsta nivån (minst 3)"
    )
    assert "Ersättning per säsong" in raw and "2026-07 – 2026-12" in raw
    for code in ("below_tiers", "not_in_hours", "no_report"):
        assert code not in raw


async def test_the_old_rate_keeps_its_tables_and_adds_seasons(ctx: Context) -> None:
    """rate_per_walk as before (summary and walk lines unchanged), a season table after them."""
    await build(ctx)
    rated = with_settings(ctx, payments={"rate_per_walk": 500})
    basis = await payments.payment_basis(rated, Actor.operator(), OCT_1, NOV_30)
    assert basis.total == Decimal(1000) and not basis.tiers
    assert [(m.month, m.amount) for m in basis.seasons] == [
        ("2026-07 – 2026-12", Decimal(500)), ("2026-07 – 2026-12", Decimal(500))]


@pytest.mark.parametrize(
    ("tiers", "says"),
    [
        ("[{min_walkers = 3, amount = 1500}, {min_walkers = 4, amount = 2000}]",
         "largest min_walkers first"),
        ("[{min_walkers = 4, amount = -2000}]", "tiers[0][amount]: Input should be greater"),
        ("[{min_walkers = 4, amount = 2000.5}]", "tiers[0][amount]: Input should be a valid int"),
        ("[{min_walkers = 4, amount = \"2000\"}]", "tiers[0][amount]: Input should be a valid"),
        ("[{min_walkers = 4, amount = 1000}, {min_walkers = 3, amount = 1500}]",
         "must not pay less"),
    ],
)
def test_bad_tiers_stop_start_up_with_one_line(  # type: ignore[no-untyped-def]
    vandra, tmp_path: Path, tiers: str, says: str
) -> None:
    """Unsorted tiers, a negative amount, a non-integer: exit 2, one line naming the key."""
    config = tmp_path / "vandra.toml"
    config.write_text(f"[payments]\ntiers = {tiers}\n", encoding="utf-8")
    code, _, err = vandra("--config", str(config), "orgs", "list")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "[payments] tiers" in err and says in err, err


async def test_the_monthly_summary_shows_each_night_and_the_season(
    tiered: tuple[Context, DataSet],
) -> None:
    """The dashboard's summary under tiers: the month's amount, each night's tier and why in
    words, and the season so far (October's walk included)."""
    import httpx

    from bot.dashboard import dashboard_routes
    from bot.http import build_app
    from models.tables import Role
    from tests.test_dashboard import BASE, person, sign_in

    ctx, _ = tiered
    http = ctx.settings.http.model_copy(update={"public_url": BASE})
    ctx = Context(ctx.store, ctx.settings.model_copy(update={"http": http}), ctx.clock)
    app = build_app(ctx, {}, dashboard_routes(ctx))
    transport = httpx.ASGITransport(app=app, root_path="/natt")
    async with httpx.AsyncClient(transport=transport, base_url="https://vandra.test/natt") as c:
        await sign_in(ctx, c, await person(ctx, Role.COORDINATOR, None, "Maria"))
        page = (await c.get("/dashboard/summary", params={"month": "2026-11"})).text
    assert "Ersättningsunderlag" in page and "1500.00" in page
    assert "minst 3 vandrare" in page and "under lägsta nivån (minst 3)" in page
    assert "Per säsong" in page and "2026-07 – 2026-12" in page
    assert "below_tiers" not in page and "not_in_hours" not in page
