"""The dialogue: every channel hands it an ``Inbound`` and renders the ``Outgoing`` replies.

Routing, in order: registration comes first for anyone not yet registered (a pending deep link
or sign-up is remembered and continued afterwards); a command interrupts any flow; a chosen
option runs its action; text goes to the flow the person is in, or is read as the number of an
option last offered (how SMS and the console choose); anything else gets a short hint.
Nothing raises out of ``handle``: a refusal of the core is said politely, and an unexpected
error is logged and answered with an apology, so no input can crash a channel. Loading and
saving the conversation are tried once more when the database connection dropped under them
(both only read, or write the conversation's own state); the person's action itself is not
repeated: it ran in its own transactions, and the apology asks them to try again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import make_transient
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import metrics
from bot.dialogue.turn import Inbound, Turn
from bot.i18n import t
from models.tables import Conversation, Person
from scheduling.context import Context
from scheduling.errors import DomainError
from scheduling.outgoing import Outgoing
from scheduling.text import name_key, small_number

log = logging.getLogger("vandra.dialogue")

Handler = Callable[[Turn, str], Awaitable[None]]
T = TypeVar("T")

COMMANDS: dict[str, str] = {
    # canonical name <- Swedish and English command words (Telegram, console)
    "start": "start",
    "pass": "shifts",
    "shifts": "shifts",
    "mina": "my",
    "my": "my",
    "rapport": "report",
    "report": "report",
    "hjalp": "help",
    "hjälp": "help",
    "help": "help",
    "sprak": "language",
    "språk": "language",
    "language": "language",
    "mina_data": "mydata",
    "mydata": "mydata",
    "radera": "delete",
    "delete": "delete",
    "nytt_pass": "newshift",
    "newshift": "newshift",
    "bemanning": "staffing",
    "staffing": "staffing",
    "utskick": "broadcast",
    "broadcast": "broadcast",
    "statistik": "stats",
    "stats": "stats",
    "export": "export",
    "dashboard": "dashboard",
    "avbryt": "cancel_flow",
    "cancel": "cancel_flow",
}
# Commands that work before registration.
OPEN_COMMANDS = frozenset({"help", "language", "cancel_flow"})


class Dialogue:
    """The conversation flows, written once for every channel."""

    def __init__(self, ctx: Context) -> None:
        from bot.dialogue import coordinator, evaluation, registration, report, volunteer

        self.ctx = ctx
        self.commands: dict[str, Handler] = {}
        self.actions: dict[str, Handler] = {}
        self.flows: dict[str, Handler] = {}
        for module in (registration, volunteer, report, coordinator, evaluation):
            module.register(self)

    # --- registration of handlers -----------------------------------------------------------

    def command(self, name: str, handler: Handler) -> None:
        self.commands[name] = handler

    def action(self, prefix: str, handler: Handler) -> None:
        self.actions[prefix] = handler

    def flow(self, name: str, handler: Handler) -> None:
        """``handler(turn, text)`` receives free text while the person is in flow ``name``."""
        self.flows[name] = handler

    # --- the entry point --------------------------------------------------------------------

    async def handle(self, inbound: Inbound) -> list[Outgoing]:
        """Answer one input. Never raises: any failure becomes a polite reply."""
        metrics.update_handled(inbound.channel)
        try:
            conversation, person = await _once_more(lambda: self._load(inbound))
        except Exception:
            log.exception("dialogue failed on %s input: the conversation did not load",
                          inbound.channel)
            hint = (inbound.language_hint or "").lower()
            return [Outgoing(text=t("en" if hint.startswith("en") else "sv", "common.sorry"))]
        turn = Turn(ctx=self.ctx, inbound=inbound, conversation=conversation, person=person)
        try:
            await self._route(turn)
        except DomainError as error:
            turn.refuse(error)
        except Exception:
            log.exception("dialogue failed on %s input", inbound.channel)
            turn.replies.clear()
            turn.say("common.sorry")
        try:
            await _once_more(lambda: self._save(turn))
        except Exception:  # what was done is done and said; only the conversation's state is lost
            log.exception("dialogue failed on %s input: the conversation was not saved",
                          inbound.channel)
        return turn.replies

    async def _route(self, turn: Turn) -> None:
        from bot.dialogue import registration

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

    async def _load(self, inbound: Inbound) -> tuple[Conversation, Person | None]:
        async with self.ctx.store.transaction() as session:
            conversation = (
                await session.exec(
                    select(Conversation).where(
                        col(Conversation.channel) == inbound.channel,
                        col(Conversation.address) == inbound.address,
                    )
                )
            ).first()
            if conversation is None:
                conversation = Conversation(
                    channel=inbound.channel,
                    address=inbound.address,
                    data={},
                    updated_at=self.ctx.now(),
                )
            person = await _find_person(session, inbound, conversation)
            conversation.person_id = person.id if person else None
            return conversation, person

    async def _save(self, turn: Turn) -> None:
        """Write the conversation back and note the person's activity: two plain statements.

        The row is overwritten with this turn's state (as a merge would, without reading it
        first). If the turn erased the person, the erasure deleted the row: it is written anew,
        keeping only what the turn left in it (the language of the goodbye).
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
        async with self.ctx.store.transaction() as session:
            written = 0
            if conversation.id is not None:
                result = await session.exec(
                    update(Conversation)
                    .where(col(Conversation.id) == conversation.id)
                    .values(**state)
                )
                written = int(result.rowcount or 0)
            if not written:
                make_transient(conversation)
                session.add(conversation)
            if turn.person is not None and turn.person.id is not None:
                await session.exec(
                    update(Person)
                    .where(col(Person.id) == turn.person.id, col(Person.erased_at).is_(None))
                    .values(last_active_at=now)
                )


async def _once_more(step: Callable[[], Awaitable[T]]) -> T:
    """Run a store step; once more when the connection dropped under it (the pool replaces a
    dead connection, and a database that is really down fails the second try as well)."""
    try:
        return await step()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        log.warning("database connection lost (%s); trying once more", type(error.orig).__name__)
        return await step()


async def _find_person(
    session: AsyncSession,
    inbound: Inbound,
    conversation: Conversation,
) -> Person | None:
    """The person behind this input: by Telegram id, by phone, or as the conversation knows."""
    person: Person | None = None
    if inbound.telegram_id is not None:
        person = (
            await session.exec(select(Person).where(col(Person.telegram_id) == inbound.telegram_id))
        ).first()
    elif inbound.phone is not None:
        person = (
            await session.exec(select(Person).where(col(Person.phone) == inbound.phone))
        ).first()
    elif conversation.person_id is not None:
        person = await session.get(Person, conversation.person_id)
    elif inbound.channel == "console" and inbound.display_name:
        wanted = name_key(inbound.display_name)
        for candidate in (
            await session.exec(select(Person).where(col(Person.erased_at).is_(None)))
        ).all():
            if name_key(candidate.name) == wanted:
                person = candidate
                break
    if person is not None and person.erased_at is not None:
        return None
    return person


_DEEP_LINK = re.compile(r"^pass_(\d{1,9})$")


def _remember_deep_link(turn: Turn) -> None:
    """``/start pass_12`` opens shift 12 (after registration, if that comes first)."""
    match = _DEEP_LINK.match(turn.inbound.args.strip())
    if turn.inbound.command == "start" and match:
        turn.data["then"] = f"shift:{int(match.group(1))}"
