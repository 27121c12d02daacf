"""What leads and the coordinator read back in chat: statistics, export files and a one-time
link to the web dashboard. The figures and files come from the core (``evaluation.statistics``,
``evaluation.exports``), the same as the CLI and the dashboard show."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from bot.dialogue import council_report
from bot.dialogue.registry import Routes
from bot.dialogue.roles import managed_scope
from bot.dialogue.turn import Turn
from bot.i18n import t
from evaluation import exports
from evaluation import statistics as stats
from scheduling.common.errors import DomainError
from scheduling.common.localtime import parse_date
from scheduling.links.logins import issue_dashboard_link
from scheduling.messages.content import Document


def register(routes: Routes) -> None:
    routes.command("stats", _stats)
    routes.command("export", _export)
    routes.command("dashboard", _dashboard)
    routes.action("ex", _export_action)
    council_report.register(routes)


def _range(turn: Turn, args: str) -> tuple[date, date]:
    """``YYYY-MM-DD YYYY-MM-DD`` from the arguments, else this month up to today."""
    parts = args.split()
    if len(parts) == 2:
        return parse_date(parts[0]), parse_date(parts[1])
    if parts:
        raise DomainError("bad_date", text=args[:40])
    today = turn.ctx.now().astimezone(turn.ctx.zone).date()
    return today.replace(day=1), today


def _month_range(turn: Turn, months_back: int) -> tuple[date, date]:
    today = turn.ctx.now().astimezone(turn.ctx.zone).date()
    first = today.replace(day=1)
    for _ in range(months_back):
        first = (first - timedelta(days=1)).replace(day=1)
    last = today if months_back == 0 else (first + timedelta(days=32)).replace(day=1) - (
        timedelta(days=1))
    return first, last


async def _stats(turn: Turn, args: str) -> None:
    """The figures of a range (default: this month so far), overall and per area."""
    first, last = _range(turn, args)
    report = await stats.statistics(turn.ctx, turn.actor, first, last)
    overall = report.overall
    percent = "-" if overall.report_rate is None else f"{overall.report_rate * 100:.0f} %"
    lines = [turn.text("stats.title", first=first.isoformat(), last=last.isoformat()),
             turn.text("stats.overall", planned=overall.planned, held=overall.held,
                       cancelled=overall.cancelled, understaffed=overall.understaffed,
                       hours=f"{overall.walker_hours:.0f}", walkers=overall.unique_walkers,
                       new=overall.new_walkers, youth=overall.youth_contacts,
                       incidents=overall.incidents, reports=percent)]
    if overall.alarms or overall.false_alarms:
        lines.append(turn.text("stats.alarms", alarms=overall.alarms, false=overall.false_alarms))
    lines += _no_shows(turn, report)
    for name, figures in report.by_area:
        lines.append(turn.text("stats.area", area=name, held=figures.held,
                               hours=f"{figures.walker_hours:.0f}",
                               youth=figures.youth_contacts))
    turn.send("\n".join(lines), options=[turn.option("stats.export", "ex:stats:0")])


def _no_shows(turn: Turn, report: stats.StatsReport) -> list[str]:
    """No-shows overall and, for the coordinator, per organisation (walks over only)."""
    parts = [("", report.overall)]
    if len(report.by_organisation) > 1:
        parts += report.by_organisation
    return [
        turn.text("stats.no_shows", name=name or turn.text("stats.no_shows_all"),
                  no_shows=s.no_shows, expected=s.expected_walkers,
                  rate=f"{(s.no_show_rate or 0) * 100:.0f}")
        for name, s in parts
        if s.expected_walkers
    ]


async def _export(turn: Turn, args: str) -> None:
    """Choose what to export; the file covers this month (or last month)."""
    await managed_scope(turn, "export")
    options = [turn.option(f"export.kind_{kind}", f"ex:{kind}:0") for kind in exports.KINDS]
    options += [turn.option("export.last_month", "ex:reports:1")]
    options += [turn.option("export.kind_council", f"{council_report.ACTION}:1")]
    turn.say("export.choose", options=options)


async def _export_action(turn: Turn, action: str) -> None:
    parts = action.split(":")
    if len(parts) != 3 or parts[1] not in exports.KINDS or parts[2] not in ("0", "1"):
        turn.say("common.stale_button")
        return
    kind, months_back = parts[1], int(parts[2])
    first, last = _month_range(turn, months_back)
    texts = partial(t, "sv")
    content = await exports.export_file(
        turn.ctx, turn.actor, exports.ExportRequest(kind, first, last), texts, "xlsx")  # type: ignore[arg-type]
    turn.send(turn.text("export.caption", first=first.isoformat(), last=last.isoformat()),
              document=Document(filename=exports.filename(kind, first, last, "xlsx"),
                                content=content))


async def _dashboard(turn: Turn, args: str) -> None:
    """A one-time link to the web view (valid 15 minutes, one use)."""
    link = await issue_dashboard_link(turn.ctx, turn.actor)
    turn.say("dashboard.link", url=link)
