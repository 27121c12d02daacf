"""The sign-ups export: one row per sign-up, with its history."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from evaluation.exports.contacts import contact_columns, contacts
from evaluation.exports.tables import Cell, Column, ExportRequest, Table, local_naive
from evaluation.walk_facts import Walk, load_walks
from models.tables import Person, Shift, Signup
from scheduling.common.context import Context
from scheduling.common.labels import Texts, label, yes_no

BEFORE_CONTACTS = [
    Column("shift_id", "int"),
    Column("start", "datetime"),
    Column("organisation"),
    Column("area"),
    Column("person_id", "int"),
    Column("name"),
]
AFTER_CONTACTS = [
    Column("signup_status", width=14),
    Column("queued_at", "datetime"),
    Column("confirmed_at", "datetime"),
    Column("cancelled_at", "datetime"),
    Column("checked_in_at", "datetime"),
    Column("checked_out_at", "datetime"),
    Column("no_show", width=10),
]


async def signups(
    ctx: Context, request: ExportRequest, organisation_id: int | None, texts: Texts
) -> list[Table]:
    walks = {
        w.shift_id: w
        for w in await load_walks(ctx, request.first_day, request.last_day, organisation_id)
    }
    with_contacts = request.with_contacts
    table = Table(
        "signups", [*BEFORE_CONTACTS, *contact_columns(with_contacts), *AFTER_CONTACTS]
    )
    for signup, person in await _signups_of(ctx, list(walks)):
        table.rows.append(
            [
                *_who(walks[signup.shift_id], signup, person, ctx.zone),
                *contacts(person, with_contacts),
                *_history(signup, texts, ctx.zone),
            ]
        )
    return [table]


async def _signups_of(ctx: Context, shift_ids: list[int]) -> Sequence[tuple[Signup, Person]]:
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(Signup, Person)
            .join(Person, col(Person.id) == col(Signup.person_id))
            .join(Shift, col(Shift.id) == col(Signup.shift_id))
            .where(col(Signup.shift_id).in_(shift_ids))
            .order_by(col(Shift.start_at), col(Signup.shift_id), col(Signup.queued_at))
        )
        return found.all()


def _who(walk: Walk, signup: Signup, person: Person, zone: ZoneInfo) -> list[Cell]:
    return [
        signup.shift_id,
        local_naive(walk.shift.start_at, zone),
        walk.view.organisation,
        walk.view.area,
        signup.person_id,
        person.name,
    ]


def _history(signup: Signup, texts: Texts, zone: ZoneInfo) -> list[Cell]:
    return [
        label(texts, "signup", signup.status),
        local_naive(signup.queued_at, zone),
        local_naive(signup.confirmed_at, zone),
        local_naive(signup.cancelled_at, zone),
        local_naive(signup.checked_in_at, zone),
        local_naive(signup.checked_out_at, zone),
        yes_no(texts, signup.no_show),
    ]
