"""A new shift or weekly series in chat, for a lead (their organisation) or the coordinator
(any): organisation, area, date, start, end, repeat, until, confirm; mostly taps."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.dialogue.registry import Routes
from bot.dialogue.roles import managed_scope
from bot.dialogue.turn import Turn
from scheduling.common.errors import DomainError
from scheduling.common.localtime import parse_clock_time, parse_date
from scheduling.common.text import small_number
from scheduling.people import directory
from scheduling.walks import shifts

FLOW = "newshift"
START_TIMES = ("20:00", "21:00", "22:00")
END_TIMES = ("00:00", "01:00", "02:00", "03:00")


def register(routes: Routes) -> None:
    routes.command("newshift", _newshift)
    routes.action("ns", _newshift_action)
    routes.flow(FLOW, _newshift_text)


async def _newshift(turn: Turn, args: str) -> None:
    org = await managed_scope(turn, "shifts.add")
    if org is None:
        orgs = await directory.list_organisations(turn.ctx)
        if not orgs:
            turn.say("newshift.no_orgs")
            return
        turn.goto(FLOW, "org")
        turn.say(
            "newshift.ask_org",
            options=[
                turn.option("registration.org_name", f"ns:org:{o.id}", name=o.name[:40])
                for o in orgs[:20]
            ],
        )
        return
    turn.goto(FLOW, "area", org=org)
    await _ask_area(turn)


async def _ask_area(turn: Turn) -> None:
    areas = await directory.list_areas(turn.ctx)
    if not areas:
        turn.end_flow()
        turn.say("newshift.no_areas")
        return
    turn.goto(FLOW, "area")
    turn.say(
        "newshift.ask_area",
        options=[
            turn.option("registration.org_name", f"ns:area:{a.id}", name=a.name[:40])
            for a in areas[:20]
        ],
    )


def _ask_date(turn: Turn) -> None:
    turn.goto(FLOW, "date")
    today = turn.ctx.now().astimezone(turn.ctx.zone).date()
    days = [today + timedelta(days=n) for n in range(1, 15)]
    weekend = [d for d in days if d.weekday() in (4, 5)][:4]
    turn.say(
        "newshift.ask_date",
        options=[
            turn.option(
                "newshift.day",
                f"ns:date:{d.isoformat()}",
                day=turn.text(f"weekday.{d.weekday()}"),
                date=f"{d.day}/{d.month}",
            )
            for d in weekend
        ],
    )


async def _newshift_action(turn: Turn, action: str) -> None:
    await managed_scope(turn, "shifts.add")
    if turn.flow != FLOW:
        turn.say("common.stale_button")
        return
    parts = action.split(":", 2)
    what, value = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
    await _take(turn, what, value)


async def _newshift_text(turn: Turn, text: str) -> None:
    offered = turn.data.get("offered") or []
    number = small_number(text)
    if number is not None and 1 <= number <= len(offered) and turn.step not in ("start", "end"):
        await _newshift_action(turn, offered[number - 1])
        return
    await _take(turn, turn.step or "", text.strip())


async def _take(turn: Turn, what: str, value: str) -> None:
    """One answer of the new-shift dialogue; a bad answer repeats the question with why."""
    try:
        await _take_answer(turn, what, value)
    except DomainError as error:
        turn.refuse(error)
        await _reask(turn)


async def _take_answer(turn: Turn, what: str, value: str) -> None:
    number = small_number(value)
    if what == "org" and turn.step == "org" and number is not None:
        turn.data["org"] = number
        await _ask_area(turn)
    elif what == "area" and turn.step == "area" and number is not None:
        turn.data["area"] = number
        _ask_date(turn)
    elif what == "date" and turn.step == "date":
        day = parse_date(value)
        if day < turn.ctx.now().astimezone(turn.ctx.zone).date():
            raise DomainError("shift_in_past", start=value)
        turn.data["date"] = day.isoformat()
        _ask_time(turn, "start", START_TIMES)
    elif what in ("start", "end") and turn.step == what:
        turn.data[what] = f"{parse_clock_time(value):%H:%M}"
        if what == "start":
            _ask_time(turn, "end", END_TIMES)
        else:
            _ask_repeat(turn)
    elif what == "repeat" and turn.step == "repeat" and value in ("no", "weekly", "frisat"):
        turn.data["repeat"] = value
        if value == "no":
            _confirm(turn)
        else:
            _ask_until(turn)
    elif what == "until" and turn.step == "until":
        turn.data["until"] = parse_date(value).isoformat()
        _confirm(turn)
    elif what == "confirm" and turn.step == "confirm":
        await _create(turn) if value == "yes" else _abandon(turn)
    else:
        await _reask(turn)


async def _reask(turn: Turn) -> None:
    step = turn.step
    if step == "area":
        await _ask_area(turn)
    elif step == "date":
        _ask_date(turn)
    elif step in ("start", "end"):
        _ask_time(turn, step, START_TIMES if step == "start" else END_TIMES)
    elif step == "repeat":
        _ask_repeat(turn)
    elif step == "until":
        _ask_until(turn)
    elif step == "confirm":
        _confirm(turn)
    else:
        turn.say("report.use_options")


def _ask_time(turn: Turn, step: str, choices: tuple[str, ...]) -> None:
    turn.goto(FLOW, step)
    turn.say(
        f"newshift.ask_{step}",
        options=[turn.option("newshift.time", f"ns:{step}:{c}", time=c) for c in choices],
    )


def _ask_repeat(turn: Turn) -> None:
    turn.goto(FLOW, "repeat")
    day = date.fromisoformat(str(turn.data["date"]))
    turn.say(
        "newshift.ask_repeat",
        options=[
            turn.option("newshift.once", "ns:repeat:no"),
            turn.option(
                "newshift.weekly", "ns:repeat:weekly", day=turn.text(f"weekday.{day.weekday()}")
            ),
            turn.option("newshift.fri_sat", "ns:repeat:frisat"),
        ],
    )


def _ask_until(turn: Turn) -> None:
    turn.goto(FLOW, "until")
    first = date.fromisoformat(str(turn.data["date"]))
    turn.say(
        "newshift.ask_until",
        options=[
            turn.option(
                "newshift.weeks", f"ns:until:{(first + timedelta(weeks=n)).isoformat()}", weeks=n
            )
            for n in (4, 8, 12)
        ],
    )


def _spec(turn: Turn) -> tuple[shifts.ShiftSpec, set[int] | None, date | None]:
    first = date.fromisoformat(str(turn.data["date"]))
    start = datetime.combine(first, parse_clock_time(str(turn.data["start"])))
    end = datetime.combine(first, parse_clock_time(str(turn.data["end"])))
    if end <= start:
        end += timedelta(days=1)
    repeat = {"no": None, "weekly": {first.weekday()}, "frisat": {4, 5}}[
        str(turn.data.get("repeat", "no"))
    ]
    until = date.fromisoformat(str(turn.data["until"])) if repeat else None
    spec = shifts.ShiftSpec(
        organisation=int(turn.data["org"]), area=int(turn.data["area"]), start=start, end=end
    )
    return spec, repeat, until


def _confirm(turn: Turn) -> None:
    turn.goto(FLOW, "confirm")
    spec, _repeat, until = _spec(turn)
    turn.say(
        "newshift.confirm",
        start=f"{spec.start:%Y-%m-%d %H:%M}",
        end=f"{spec.end:%H:%M}",
        repeat=turn.text(f"newshift.repeat_{turn.data.get('repeat', 'no')}"),
        until=until.isoformat() if until else "-",
        options=[
            turn.option("newshift.create", "ns:confirm:yes"),
            turn.option("newshift.abandon", "ns:confirm:no"),
        ],
    )


async def _create(turn: Turn) -> None:
    spec, repeat, until = _spec(turn)
    created = await shifts.create_shifts(turn.ctx, turn.actor, spec, repeat=repeat, until=until)
    turn.end_flow()
    turn.say(
        "newshift.created",
        count=len(created),
        ids=", ".join(str(s.id) for s in created[:20]),
        options=[turn.option("broadcast.call_now", f"bc:shift:{created[0].id}")],
    )


def _abandon(turn: Turn) -> None:
    turn.end_flow()
    turn.say("common.cancelled")

