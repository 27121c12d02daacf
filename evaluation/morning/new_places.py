"""The morning picture's section on new places for the kommun's fault reporting: the places
walkers flagged for the first time since the previous morning's picture (so on consecutive
mornings each place is named once), by area, spot and kind, in translated words only."""

from __future__ import annotations

from datetime import timedelta

from evaluation.morning.facts import NightFacts
from evaluation.morning.lines import Line, items, label, line
from evaluation.morning.night import night_of
from evaluation.places import new_places_between
from scheduling.common.context import Context


async def new_places(ctx: Context, facts: NightFacts) -> list[Line]:
    since = night_of(ctx, facts.night.day - timedelta(days=1)).moment
    found = await new_places_between(ctx, since, facts.night.moment)
    parts = [
        line("new_place_item", area=place.area,
             spot=place.spot or {"t": "places.other_spot"}, issue=label("place", place.kind))
        for place in found
    ]
    return [line("new_places", items=items(parts))] if parts else []
