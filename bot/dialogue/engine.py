"""The dialogue: every channel hands it an ``Inbound`` and renders the ``Outgoing`` replies.

Routing, in order: registration comes first for anyone not yet registered (a pending deep link
or sign-up is remembered and continued afterwards); a command interrupts any flow; a chosen
option runs its action; text goes to the flow the person is in, or is read as the number of an
option last offered (how SMS and the console choose); anything else gets a short hint.
Nothing raises out of ``handle``: a refusal of the core is said politely, and an unexpected
error is logged and answered with an apology, so no input can crash a channel. A turn is one
transaction (``Store.unit``): the person's action and the conversation's next state commit
together or not at all; when the database connection dropped while the conversation was
loading (nothing done yet) the turn is tried once more.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import Select, and_, bindparam, insert, inspect, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import metrics
from bot.dialogue import coordinator, evaluation, registration, report, volunteer
from bot.dialogue.commands import COMMANDS, OPEN_COMMANDS
from bot.dialogue.registry import Routes
from bot.dialogue.turn import Inbound, Turn
from bot.i18n import pick_language, t
from models.db import write_rows
from models.tables import Conversation, Person
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.common.text import name_key, small_number
from scheduling.messages.content import Outgoing
from scheduling.people.directory import activity_stale

log = logging.getLogger("vandra.dialogue")

FLOWS = (registration, volunteer, report, coordinator, evaluation)



class Dialogue:
    """The conversation flows, written once for every channel."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        routes = Routes()
        for flow in FLOWS:
            flow.register(routes)
        self.commands = routes.commands
        self.actions = routes.actions
        self.flows = routes.flows

    # --- the entry point --------------------------------------------------------------------

    async def handle(self, inbound: Inbound) -> list[Outgoing]:
        """Answer one input. Never raises: any failure becomes a polite reply.

        The turn is one unit of the store (``Store.unit``): loading the conversation, what the
        person asked for and the conversation's next state commit together, or not at all, in
        which case the answer is an apology. A connection that dropped before anything was done
        (while loading) is tried once more."""
        metrics.update_handled(inbound.channel)
        for attempt in (1, 2):
            turn: Turn | None = None
            try:
                async with self.ctx.store.unit() as session:
                    conversation, person = await self._load(session, inbound)
                    turn = Turn(
                        ctx=self.ctx, inbound=inbound, conversation=conversation, person=person
                    )
                    await self._route_politely(session, turn)
                    await self._save(session, turn)
                return turn.replies
            except DBAPIError as error:
                if turn is None and attempt == 1 and error.connection_invalidated:
                    log.warning("database connection lost (%s); trying once more",
                                type(error.orig).__name__)
                    continue
                log.exception("dialogue failed on %s input: the turn was not stored",
                              inbound.channel)
            except Exception:
                log.exception("dialogue failed on %s input: the turn was not stored",
                              inbound.channel)
            break
        return [Outgoing(text=t(_language_after_failure(turn, inbound), "common.sorry"))]

    async def _route_politely(self, session: AsyncSession, turn: Turn) -> None:
        """Route the input; a refusal of the core is said, anything unexpected apologised for
        (what the failed use case wrote is undone by its savepoint, which also forgets what
        it changed in the person: that is read again)."""
        try:
            await self._route(turn)
        except DomainError as error:
            await _reload_if_expired(session, turn.person)
            turn.refuse(error)
        except DBAPIError:
            raise  # the transaction may be unusable: the whole turn fails
        except Exception:
            log.exception("dialogue failed on %s input", turn.inbound.channel)
            await _reload_if_expired(session, turn.person)
            turn.replies.clear()
            turn.say("common.sorry")

    async def _route(self, turn: Turn) -> None:
        inbound = turn.inbound
        _remember_deep_link(turn)
        if inbound.command in OPEN_COMMANDS:
            await self.commands[inbound.command](turn, inbound.args)
            return
        if not registration.complete(turn):
            await registration.advance(turn)
            if registration.complete(turn):
                await self.continue_pending(turn)
            return
        if inbound.command is not None:
            handler = self.commands.get(inbound.command)
            if handler is None:
                turn.say("common.unknown_command")
                return
            turn.end_flow()
            await handler(turn, inbound.args)
        elif inbound.action is not None:
            await self.run_action(turn, inbound.action)
        elif inbound.contact_phone is not None:
            await registration.contact_shared(turn)
        else:
            await self._text(turn, (inbound.text or "").strip())

    async def run_action(self, turn: Turn, action: str) -> None:
        prefix = action.split(":", 1)[0]
        handler = self.actions.get(prefix)
        if handler is None:
            turn.say("common.stale_button")
            return
        await handler(turn, action)

    async def continue_pending(self, turn: Turn) -> None:
        """After registration: carry on with the deep link or action that started it."""
        pending = turn.data.pop("then", None)
        if isinstance(pending, str) and pending:
            await self.run_action(turn, pending)
        else:
            await self.commands["shifts"](turn, "")

    async def _text(self, turn: Turn, text: str) -> None:
        offered = turn.data.get("offered") or []
        if turn.flow is not None and turn.flow in self.flows:
            await self.flows[turn.flow](turn, text)
            return
        number = small_number(text)
        if number is not None and 1 <= number <= len(offered):
            await self.run_action(turn, offered[number - 1])
            return
        word = text.lstrip("/").split(" ", 1)
        if word and word[0].lower() in COMMANDS:
            args = word[1] if len(word) > 1 else ""
            await self.commands[COMMANDS[word[0].lower()]](turn, args)
            return
        turn.say("common.hint")

    # --- persistence ------------------------------------------------------------------------

    async def _load(
        self, session: AsyncSession, inbound: Inbound
    ) -> tuple[Conversation, Person | None]:
        """The conversation and the person behind the input: one statement when the channel
        names a registered person (Telegram id, phone), with or without a conversation yet."""
        conversation: Conversation | None = None
        person: Person | None = None
        keyed = _load_statement(inbound)
        if keyed is not None:
            statement, params = keyed
            row = (await session.exec(statement, params=params)).first()  # type: ignore[call-overload]
            if row is not None:
                person, conversation = row
        if person is None:
            conversation = (await session.exec(_CONVERSATION, params=_where(inbound))).first()
        if conversation is None:
            conversation = Conversation(
                channel=inbound.channel,
                address=inbound.address,
                data={},
                updated_at=self.ctx.now(),
            )
        else:
            session.expunge(conversation)  # written back by _save, never flushed on its own
        if keyed is None:
            person = await _find_person(session, inbound, conversation)
        if person is not None and person.erased_at is not None:
            person = None
        conversation.person_id = person.id if person else None
        return conversation, person

    async def _save(self, session: AsyncSession, turn: Turn) -> None:
        """Write the conversation back and note the person's activity.

        The row is overwritten with this turn's state (as a merge would, without reading it
        first). If the turn erased the person, the erasure deleted the row: it is written anew,
        keeping only what the turn left in it (the language of the goodbye). Activity is
        noted at most once an hour (``directory.activity_stale``).
        """
        offered = [o.action for reply in turn.replies for o in reply.options]
        conversation = turn.conversation
        if turn.replies:
            conversation.data = {**conversation.data, "offered": offered}
        now = self.ctx.now()
        conversation.updated_at = now
        if turn.person is not None:
            conversation.person_id = turn.person.id
        state = {
            "person_id": conversation.person_id,
            "flow": conversation.flow,
            "step": conversation.step,
            "data": conversation.data,
            "updated_at": now,
        }
        params = {f"new_{key}": value for key, value in state.items()}
        written = 0
        if conversation.id is not None:
            params["conversation_id"] = conversation.id
            written = await write_rows(session, _SAVE_CONVERSATION, params)
        if not written:  # a new conversation, or its row went with the person's erasure
            params.update(new_channel=conversation.channel, new_address=conversation.address)
            await write_rows(session, _NEW_CONVERSATION, params)
        person = turn.person
        if person is not None and person.id is not None and _activity_stale(person, now):
            await write_rows(session, _NOTE_ACTIVITY, {"person_id": person.id, "now": now})


_SAVE_CONVERSATION = (
    update(Conversation)
    .where(col(Conversation.id) == bindparam("conversation_id"))
    .values(
        person_id=bindparam("new_person_id"),
        flow=bindparam("new_flow"),
        step=bindparam("new_step"),
        data=bindparam("new_data"),
        updated_at=bindparam("new_updated_at"),
    )
)
_NEW_CONVERSATION = insert(Conversation).values(
    channel=bindparam("new_channel"),
    address=bindparam("new_address"),
    person_id=bindparam("new_person_id"),
    flow=bindparam("new_flow"),
    step=bindparam("new_step"),
    data=bindparam("new_data"),
    updated_at=bindparam("new_updated_at"),
)
_NOTE_ACTIVITY = (
    update(Person)
    .where(col(Person.id) == bindparam("person_id"), col(Person.erased_at).is_(None))
    .values(last_active_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


def _activity_stale(person: Person, now: datetime) -> bool:
    state = inspect(person)
    if state.deleted or state.detached or "last_active_at" in state.expired_attributes:
        return True
    return activity_stale(person, now)


async def _reload_if_expired(session: AsyncSession, person: Person | None) -> None:
    if person is not None:
        state = inspect(person)
        if state.persistent and state.expired_attributes:
            await session.refresh(person)


def _language_after_failure(turn: Turn | None, inbound: Inbound) -> str:
    """The turn's language if it can still be told (a rolled-back unit forgets the person's
    loaded state), else the channel's hint."""
    person = turn.person if turn is not None else None
    if turn is not None and (person is None or not inspect(person).expired_attributes):
        return turn.lang
    return _hinted(inbound)


def _hinted(inbound: Inbound) -> str:
    return pick_language(hint=inbound.language_hint)


async def _find_person(
    session: AsyncSession,
    inbound: Inbound,
    conversation: Conversation,
) -> Person | None:
    """The person behind an input whose channel names nobody (the console): as the
    conversation knows, or by the name typed."""
    person: Person | None = None
    if conversation.person_id is not None:
        person = await session.get(Person, conversation.person_id)
    elif inbound.channel == "console" and inbound.display_name:
        wanted = name_key(inbound.display_name)
        for candidate in (
            await session.exec(select(Person).where(col(Person.erased_at).is_(None)))
        ).all():
            if name_key(candidate.name) == wanted:
                person = candidate
                break
    return person


def _where(inbound: Inbound) -> dict[str, object]:
    return {"channel": inbound.channel, "address": inbound.address}


_OF_CONVERSATION = (
    col(Conversation.channel) == bindparam("channel"),
    col(Conversation.address) == bindparam("address"),
)
_CONVERSATION = select(Conversation).where(*_OF_CONVERSATION)
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
    inbound: Inbound,
) -> tuple[Select[Person, Conversation], dict[str, object]] | None:
    """The statement (built once) that loads the person the channel names together with
    their conversation, and its parameters; None when the channel names nobody (the
    console)."""
    if inbound.telegram_id is not None:
        params = {**_where(inbound), "telegram_id": inbound.telegram_id}
        return _PERSON_AND_CONVERSATION_BY_TELEGRAM_ID, params
    if inbound.phone is not None:
        return _PERSON_AND_CONVERSATION_BY_PHONE, {**_where(inbound), "phone": inbound.phone}
    return None


_DEEP_LINK = re.compile(r"^pass_(\d{1,9})$")


def _remember_deep_link(turn: Turn) -> None:
    """``/start pass_12`` opens shift 12 (after registration, if that comes first)."""
    match = _DEEP_LINK.match(turn.inbound.args.strip())
    if turn.inbound.command == "start" and match:
        turn.data["then"] = f"shift:{int(match.group(1))}"
