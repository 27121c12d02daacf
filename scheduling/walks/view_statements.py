"""The SQL behind shift views, built once per combination of filters with values as parameters.

SQLAlchemy then finds a statement's compiled form without computing the large statement's
cache key every time (a plain select is rebuilt each call).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Subquery, and_, bindparam, case, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from models.tables import Area, Organisation, Person, Shift, Signup, SignupStatus

# the shift's own meeting point, else its area's
MEETING_POINT = func.coalesce(col(Shift.meeting_point), col(Area.meeting_point))
# how many columns of a view row describe the shift (the rest is what a statement adds)
VIEW_COLUMNS = 8


@functools.lru_cache(maxsize=64)
def views_statement_for(given: frozenset[str], ids: str) -> Select[*tuple[Any, ...]]:
    """The view statement for one combination of filters (``given`` names those set; ``ids``
    is "none", "one" or "many")."""
    chosen: list[ColumnElement[bool]] = []
    if "start_from" in given:
        chosen.append(col(Shift.start_at) >= bindparam("start_from"))
    if "start_before" in given:
        chosen.append(col(Shift.start_at) < bindparam("start_before"))
    if "ends_after" in given:
        chosen.append(col(Shift.end_at) > bindparam("ends_after"))
    if ids == "one":
        chosen.append(col(Shift.id) == bindparam("shift_id"))
    elif ids == "many":
        chosen.append(col(Shift.id).in_(bindparam("shift_ids", expanding=True)))
    if "organisation_id" in given:
        chosen.append(col(Shift.organisation_id) == bindparam("organisation_id"))
    return views_statement(chosen)


def views_statement(chosen: Sequence[ColumnElement[bool]]) -> Select[*tuple[Any, ...]]:
    """Shifts ``chosen`` selects, with their names and head-counts, in start order."""
    counts = signup_counts(chosen)
    return (
        sa_select(
            Shift,
            col(Organisation.name),
            col(Area.name),
            MEETING_POINT,
            func.coalesce(counts.c.confirmed, 0),
            func.coalesce(counts.c.offered, 0),
            func.coalesce(counts.c.waitlisted, 0),
            func.coalesce(counts.c.trained, 0),
        )
        .join(Organisation, col(Organisation.id) == col(Shift.organisation_id))
        .join(Area, col(Area.id) == col(Shift.area_id))
        .join(counts, counts.c.shift_id == col(Shift.id), isouter=True)
        .where(*chosen)
        .order_by(col(Shift.start_at), col(Shift.id))
    )


def signup_counts(chosen: Sequence[ColumnElement[bool]]) -> Subquery:
    """Head-counts per shift, over the sign-ups of the shifts ``chosen`` selects (all without)."""

    def count_when(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    status = col(Signup.status)
    of_chosen = (
        [col(Signup.shift_id).in_(sa_select(col(Shift.id)).where(*chosen))] if chosen else []
    )
    return (
        sa_select(
            col(Signup.shift_id).label("shift_id"),
            count_when(status == SignupStatus.CONFIRMED).label("confirmed"),
            count_when(status == SignupStatus.OFFERED).label("offered"),
            count_when(status == SignupStatus.WAITLISTED).label("waitlisted"),
            count_when(and_(status == SignupStatus.CONFIRMED, col(Person.trained))).label(
                "trained"
            ),
        )
        .join(Person, col(Person.id) == col(Signup.person_id))
        .where(*of_chosen)
        .group_by(col(Signup.shift_id))
    ).subquery()


_MINE = aliased(Signup, name="mine")
ONE_VIEW_WITH_SIGNUP = (
    views_statement([col(Shift.id) == bindparam("shift_id")])
    .outerjoin(
        _MINE,
        and_(col(_MINE.shift_id) == col(Shift.id), col(_MINE.person_id) == bindparam("person_id")),
    )
    .add_columns(_MINE)
)

LOCKED_SHIFT_WITH_NAMES = (
    sa_select(Shift, col(Organisation.name), col(Area.name), MEETING_POINT)
    .join(Organisation, col(Organisation.id) == col(Shift.organisation_id))
    .join(Area, col(Area.id) == col(Shift.area_id))
    .where(col(Shift.id) == bindparam("shift_id"))
    .with_for_update(of=Shift)
    .execution_options(populate_existing=True)
)
