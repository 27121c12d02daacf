"""Places for the kommun's fault reporting (felanmälan): place issues walkers reported, merged
while open (scheduling/walks/place_merge.py), listed, marked by the coordinator, exported, and
named in the morning picture (``new_places_between``)."""

from evaluation.places.listing import PlaceItem, list_places, place_items
from evaluation.places.marking import MARKS, mark_place
from evaluation.places.news import NewPlace, new_places_between

__all__ = [
    "MARKS",
    "NewPlace",
    "PlaceItem",
    "list_places",
    "mark_place",
    "new_places_between",
    "place_items",
]
