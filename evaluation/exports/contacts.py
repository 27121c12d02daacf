"""Contact columns (phone, Telegram id): only in an export a coordinator asked for with them."""

from __future__ import annotations

from sqlmodel import col, select

from evaluation.exports.tables import Cell, Column
from models.tables import Person
from scheduling.common.context import Context


async def people_by_id(ctx: Context, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    async with ctx.store.transaction() as session:
        found = await session.exec(select(Person).where(col(Person.id).in_(sorted(ids))))
        return {p.id or 0: p for p in found.all()}


def contact_columns(with_contacts: bool) -> list[Column]:
    return [Column("phone", width=16), Column("telegram_id", width=14)] if with_contacts else []


def contacts(person: Person | None, with_contacts: bool) -> list[Cell]:
    if not with_contacts:
        return []
    if person is None:
        return [None, None]
    return [person.phone, str(person.telegram_id) if person.telegram_id else None]
