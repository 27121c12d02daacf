"""The morning picture's sections, in order: each is a small function from the night's facts
to lines (none: the section is left out). A line is a catalogue key (``morning.<name>``) with
values; a value may be a label to translate (``label``) or a list of lines joined (``items``),
so the picture holds no words of its own and no internal codes, only what the catalogues say.
A new section (new places for the kommun's fault reporting, say) is one more entry in
``SECTIONS``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

from evaluation.measures import YOUTH_ESTIMATE
from evaluation.morning.facts import NightFacts
from evaluation.morning.lines import Line, items, label, line
from evaluation.morning.new_places import new_places
from evaluation.walk_facts import MOODS, YOUTH_BUCKETS
from scheduling.common.context import Context
from scheduling.walks.reports import HELP_KINDS

Section = Callable[[Context, NightFacts], Awaitable[list[Line]]]


async def walks(ctx: Context, facts: NightFacts) -> list[Line]:
    cancelled = sum(1 for t in facts.tallies if t.cancelled)
    return [line("walks", planned=len(facts.tallies), held=len(facts.held), cancelled=cancelled)]


async def walkers(ctx: Context, facts: NightFacts) -> list[Line]:
    return [line("walkers", count=sum(t.walkers_present for t in facts.held))]


async def youth(ctx: Context, facts: NightFacts) -> list[Line]:
    buckets = [YOUTH_BUCKETS[t.youth] for t in facts.held if t.youth is not None]
    if not buckets:
        return [line("youth_unreported")]
    return [line("youth", count=sum(YOUTH_ESTIMATE[b] for b in buckets))]


async def mood_by_area(ctx: Context, facts: NightFacts) -> list[Line]:
    worst: dict[str, int] = {}
    for tally in facts.held:
        if tally.mood is not None:
            worst[tally.area] = max(worst.get(tally.area, 0), tally.mood)
    parts = [line("mood_item", area=area, mood=label("mood", MOODS[worst[area]]))
             for area in sorted(worst, key=str.casefold)]
    return [line("mood", items=items(parts))] if parts else []


async def incidents(ctx: Context, facts: NightFacts) -> list[Line]:
    """Each kind of help given or service contacted, by the walk's main time band."""
    counted: Counter[tuple[str, str]] = Counter()
    for tally in facts.held:
        for kind in facts.kinds.get(tally.shift_id, ()):
            counted[(facts.bands.get(tally.shift_id, ""), kind)] += 1
    parts = [
        line("incident_item", band=band.replace("-", "–"), count=count,
             kind=label("help" if kind in HELP_KINDS else "service", kind))
        for (band, kind), count in sorted(counted.items())
    ]
    return [line("incidents", items=items(parts))] if parts else [line("incidents_none")]


async def places(ctx: Context, facts: NightFacts) -> list[Line]:
    flagged = sorted({p for t in facts.held for p in t.places})
    parts = [line("place_item", place=place, issue=label("place", category))
             for place, category in flagged]
    return [line("places", items=items(parts))] if parts else []


async def alarms(ctx: Context, facts: NightFacts) -> list[Line]:
    raised = sum(t.alarms for t in facts.tallies)
    false = sum(t.false_alarms for t in facts.tallies)
    return [line("alarms", count=raised, false=false)]


async def follow_ups(ctx: Context, facts: NightFacts) -> list[Line]:
    return [line("followups", count=facts.follow_ups)]


SECTIONS: list[tuple[str, Section]] = [
    ("walks", walks),
    ("walkers", walkers),
    ("youth", youth),
    ("mood", mood_by_area),
    ("incidents", incidents),
    ("places", places),
    ("new_places", new_places),
    ("alarms", alarms),
    ("followups", follow_ups),
]


async def picture(ctx: Context, facts: NightFacts) -> list[Line]:
    """Every section's lines, in order."""
    lines: list[Line] = []
    for _name, section in SECTIONS:
        lines += await section(ctx, facts)
    return lines
