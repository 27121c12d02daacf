"""What the dashboard shows of alarms: the open ones, as far as the viewer may see them (a
lead their organisation's, a coordinator every one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models.tables import Alarm, AlarmStatus, Area, Organisation, Person, Shift
from scheduling.common.context import Context
from scheduling.people.access import Actor
from scheduling.people.scope import organisation_scope


@dataclass(frozen=True)
class OpenAlarm:
    id: int
    raised_at: datetime
    name: str
    phone: str | None
    area: str
    organisation: str
    shift_start: datetime
    text: str | None
    latitude: float | None
    longitude: float | None


async def open_alarms(ctx: Context, actor: Actor) -> list[OpenAlarm]:
    """Alarms nobody has acknowledged or called off, newest first."""
    organisation_id = await organisation_scope(ctx, actor, "dashboard.view")
    statement = (
        select(Alarm, Shift, Area.name, Organisation.name)
        .join(Shift, col(Shift.id) == col(Alarm.shift_id))
        .join(Area, col(Area.id) == col(Shift.area_id))
        .join(Organisation, col(Organisation.id) == col(Shift.organisation_id))
        .where(col(Alarm.status) == AlarmStatus.OPEN)
        .order_by(col(Alarm.raised_at).desc())
    )
    if organisation_id is not None:
        statement = statement.where(col(Shift.organisation_id) == organisation_id)
    async with ctx.store.transaction() as session:
        rows = (await session.exec(statement)).all()
        people = {
            alarm.person_id: await session.get(Person, alarm.person_id)
            for alarm, *_ in rows
            if alarm.person_id is not None
        }
    return [
        OpenAlarm(
            id=alarm.id or 0,
            raised_at=alarm.raised_at,
            name=_name(people.get(alarm.person_id or 0)),
            phone=_phone(people.get(alarm.person_id or 0)),
            area=area,
            organisation=organisation,
            shift_start=shift.start_at,
            text=alarm.text,
            latitude=alarm.latitude,
            longitude=alarm.longitude,
        )
        for alarm, shift, area, organisation in rows
    ]


def _name(person: Person | None) -> str:
    return person.name if person is not None and person.erased_at is None else "?"


def _phone(person: Person | None) -> str | None:
    return person.phone if person is not None and person.erased_at is None else None
