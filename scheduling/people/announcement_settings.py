"""A walker's own choice to receive announcements (a lead's or the coordinator's own texts)
or not. Opted out, they are neither counted nor sent one (``messages/audiences.py``); calls
for walkers, reminders, changes to their shifts and alarms still come."""

from __future__ import annotations

from scheduling.common.context import Context
from scheduling.people.directory import get_person


async def set_announcements_off(ctx: Context, person_id: int, off: bool) -> None:
    """Turn announcements off (or on again) for the person."""
    async with ctx.store.transaction() as session:
        person = await get_person(session, person_id)
        person.announcements_off = off
        session.add(person)


async def announcements_off(ctx: Context, person_id: int) -> bool:
    async with ctx.store.transaction() as session:
        return (await get_person(session, person_id)).announcements_off
