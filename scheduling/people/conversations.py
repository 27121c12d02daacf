"""Where each person is in the dialogue: the ``Conversation`` row of a channel address.

A turn of the dialogue loads the conversation with the person the channel names in one
statement (``load_conversation``) and writes it back without reading it again
(``save_conversation``), both in the turn's unit of the store. The dialogue works on a plain
``ConversationState`` and a ``PersonView``; the rows stay here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, insert, inspect, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import thin
from models.tables import Conversation, Person
from models.writes import write_rows
from scheduling.common.context import Context
from scheduling.common.text import name_key
from scheduling.people.directory import activity_stale
from scheduling.people.lookups import PersonView, person_view


@dataclass(frozen=True)
class Caller:
    """Who a channel says is writing: its address, and the Telegram id or phone it vouches for
    (the console names nobody: it may give a display name to look up)."""

    channel: str
    address: str
    telegram_id: int | None = None
    phone: str | None = None
    display_name: str | None = None


@dataclass
class ConversationState:
    """The flow and step a person is in, and the little data the flow carries."""

    channel: str
    address: str
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    person_id: int | None = None
    flow: str | None = None
    step: str | None = None
    # The person's row as loaded, held for the turn: the session only holds it weakly, and the
    # turn's use cases find it there (and note what they change in it) without reading again.
    loaded: tuple[object, ...] = field(default=(), repr=False, compare=False)


async def load_conversation(
    ctx: Context, caller: Caller
) -> tuple[ConversationState, PersonView | None]:
    """The conversation and the person behind the input: one statement when the channel
    names a registered person (Telegram id, phone), with or without a conversation yet. An
    erased person is nobody."""
    conversation: dict[str, Any] | None = None
    person: Person | None = None
    keyed = _load_statement(caller)
    async with ctx.store.joined() as session:
        if keyed is not None:
            statement, params = keyed
            found = await thin.rows(session, statement, params)
            if found:
                person, conversation = _person_and_conversation(session, found[0])
        if person is None:
            conversation = await _conversation(session, caller)
        if keyed is None:
            person = await _find_person(session, caller, conversation)
    if person is not None and person.erased_at is not None:
        person = None
    state = _state(caller, conversation)
    state.person_id = person.id if person else None
    if person is None:
        return state, None
    state.loaded = (person,)
    return state, person_view(person)


def _person_and_conversation(
    session: AsyncSession, row: tuple[Any, ...]
) -> tuple[Person, dict[str, Any] | None]:
    """A row of the keyed load: the person (the session's object, as a query gives it) and
    their conversation's columns (None: they have none on this address yet)."""
    width = len(_PERSON_COLUMNS)
    person = thin.adopt(session, Person, row[:width])
    conversation = dict(zip(_CONVERSATION_COLUMNS, row[width:], strict=True))
    return person, conversation if conversation["id"] is not None else None


async def _conversation(session: AsyncSession, caller: Caller) -> dict[str, Any] | None:
    """The conversation on the caller's address, as columns (not held by the session:
    written back by save_conversation only)."""
    found = await thin.rows(session, _CONVERSATION, _where(caller))
    return dict(zip(_CONVERSATION_COLUMNS, found[0], strict=True)) if found else None


def _state(caller: Caller, conversation: dict[str, Any] | None) -> ConversationState:
    if conversation is None:
        return ConversationState(channel=caller.channel, address=caller.address)
    return ConversationState(
        channel=conversation["channel"],
        address=conversation["address"],
        data=conversation["data"],
        id=conversation["id"],
        person_id=conversation["person_id"],
        flow=conversation["flow"],
        step=conversation["step"],
    )


async def save_conversation(
    ctx: Context, state: ConversationState, person: PersonView | None
) -> None:
    """Write the conversation back and note the person's activity.

    The row is overwritten with this state (as a merge would, without reading it first). If
    the turn erased the person, the erasure deleted the row: it is written anew, keeping only
    what the turn left in it (the language of the goodbye). Activity is noted at most once an
    hour (``directory.activity_stale``). Written last in the turn's unit: on PostgreSQL, when
    nothing else is to be written with it, as one upsert on the channel's address that goes
    alone or with the COMMIT (``Store.last_write``)."""
    now = ctx.now()
    params = {
        "new_person_id": state.person_id,
        "new_flow": state.flow,
        "new_step": state.step,
        "new_data": state.data,
        "new_updated_at": now,
    }
    async with ctx.store.joined() as session:
        activity = person is not None and _activity_stale(session, person, now)
        last = {} if activity else ctx.store.last_write(session)
        if last:  # one statement, the unit's last (PostgreSQL)
            params.update(new_channel=state.channel, new_address=state.address)
            await write_rows(session, _UPSERT_CONVERSATION, params, last)
            return
        written = 0
        if state.id is not None:
            written = await write_rows(
                session, _SAVE_CONVERSATION, {**params, "conversation_id": state.id}
            )
        if not written:  # a new conversation, or its row went with the person's erasure
            params.update(new_channel=state.channel, new_address=state.address)
            await write_rows(session, _NEW_CONVERSATION, params)
        if activity:
            assert person is not None
            await write_rows(session, _NOTE_ACTIVITY, {"person_id": person.id, "now": now})


def _activity_stale(session: AsyncSession, person: PersonView, now: datetime) -> bool:
    """Whether to note activity: as the person's row in the session knows it (a use case of
    the turn may have noted it already), else as the view says; a row whose state the session
    has forgotten (a failed use case's savepoint) is noted again."""
    key = inspect(Person).identity_key_from_primary_key((person.id,))
    row = session.identity_map.get(key)
    if not isinstance(row, Person):
        return activity_stale(person, now)  # type: ignore[arg-type]  # reads last_active_at
    state = inspect(row)
    if state.deleted or state.detached or "last_active_at" in state.expired_attributes:
        return True
    return activity_stale(row, now)


async def _find_person(
    session: AsyncSession, caller: Caller, conversation: dict[str, Any] | None
) -> Person | None:
    """The person behind an input whose channel names nobody (the console): as the
    conversation knows, or by the name typed."""
    if conversation is not None and conversation["person_id"] is not None:
        return await session.get(Person, conversation["person_id"])
    if caller.channel != "console" or not caller.display_name:
        return None
    wanted = name_key(caller.display_name)
    for candidate in (
        await session.exec(select(Person).where(col(Person.erased_at).is_(None)))
    ).all():
        if name_key(candidate.name) == wanted:
            return candidate
    return None


_STATE_COLUMNS = ("person_id", "flow", "step", "data", "updated_at")


def _state_params() -> dict[str, Any]:
    """A conversation's state as bound parameters (``new_<column>``)."""
    return {name: bindparam(f"new_{name}") for name in _STATE_COLUMNS}


def _row_params() -> dict[str, Any]:
    """A new conversation's row: its address and its state."""
    address: dict[str, Any] = {name: bindparam(f"new_{name}") for name in ("channel", "address")}
    return address | _state_params()


_SAVE_CONVERSATION = (
    update(Conversation)
    .where(col(Conversation.id) == bindparam("conversation_id"))
    .values(**_state_params())
)
_NEW_CONVERSATION = insert(Conversation).values(**_row_params())
_NEW_ROW = postgresql.insert(Conversation).values(**_row_params())
_UPSERT_CONVERSATION = _NEW_ROW.on_conflict_do_update(
    constraint="uq_conversation_address",
    set_={name: getattr(_NEW_ROW.excluded, name) for name in _STATE_COLUMNS},
)
_NOTE_ACTIVITY = (
    update(Person)
    .where(col(Person.id) == bindparam("person_id"), col(Person.erased_at).is_(None))
    .values(last_active_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


def _where(caller: Caller) -> dict[str, object]:
    return {"channel": caller.channel, "address": caller.address}


_OF_CONVERSATION = (
    col(Conversation.channel) == bindparam("channel"),
    col(Conversation.address) == bindparam("address"),
)
_PERSON_COLUMNS = tuple(column.key for column in inspect(Person).columns)
_CONVERSATION_COLUMNS = tuple(column.key for column in inspect(Conversation).columns)
_CONVERSATION = sa_select(Conversation).where(*_OF_CONVERSATION)
_WITH_CONVERSATION = and_(*_OF_CONVERSATION)
_PERSON_AND_CONVERSATION_BY_TELEGRAM_ID = (
    sa_select(Person, Conversation)
    .outerjoin(Conversation, _WITH_CONVERSATION)
    .where(col(Person.telegram_id) == bindparam("telegram_id"))
)
_PERSON_AND_CONVERSATION_BY_PHONE = (
    sa_select(Person, Conversation)
    .outerjoin(Conversation, _WITH_CONVERSATION)
    .where(col(Person.phone) == bindparam("phone"))
)


def _load_statement(
    caller: Caller,
) -> tuple[Select[Person, Conversation], dict[str, object]] | None:
    """The statement (built once) that loads the person the channel names together with
    their conversation, and its parameters; None when the channel names nobody (the
    console)."""
    if caller.telegram_id is not None:
        params = {**_where(caller), "telegram_id": caller.telegram_id}
        return _PERSON_AND_CONVERSATION_BY_TELEGRAM_ID, params
    if caller.phone is not None:
        return _PERSON_AND_CONVERSATION_BY_PHONE, {**_where(caller), "phone": caller.phone}
    return None
