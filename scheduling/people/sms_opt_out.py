"""SMS opt-out and opt-in (STOP/STOPP, START), honoured by the dispatcher."""

from __future__ import annotations

from sqlmodel import col, select

from models.tables import Person
from scheduling.common.context import Context


async def set_opt_out(ctx: Context, phone: str, opted_out: bool) -> Person | None:
    """Record STOP/STOPP (or START) from a number; the dispatcher honours it."""
    async with ctx.store.transaction() as session:
        person = (await session.exec(select(Person).where(col(Person.phone) == phone))).first()
        if person is None:
            return None
        person.sms_opted_out = opted_out
        if not opted_out:
            person.sms_unreachable = False
        session.add(person)
        return person
