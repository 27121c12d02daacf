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

from bot import metrics
from bot.dialogue import (
    alarm,
    announce,
    approval,
    attendance,
    calendar_link,
    coordinator,
    decisions,
    edit_shift,
    evaluation,
    followups,
    grouplead,
    newshift,
    nights,
    partner,
    registration,
    report,
    street,
    trust,
    volunteer,
    walkers,
)
from bot.dialogue.answers import take_yes
from bot.dialogue.commands import COMMANDS, OPEN_COMMANDS
from bot.dialogue.registry import Routes
from bot.dialogue.turn import Inbound, Turn
from bot.i18n import pick_language, t
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.common.failures import cause, connection_lost, store_failed
from scheduling.common.text import small_number
from scheduling.messages.content import Outgoing
from scheduling.people.conversations import Caller, load_conversation, save_conversation

log = logging.getLogger("vandra.dialogue")

FLOWS = (
    registration,
    volunteer,
    report,
    newshift,
    coordinator,
    decisions,
    evaluation,
    approval,
    attendance,
    alarm,
    grouplead,
    calendar_link,
    street,
    followups,
    edit_shift,
    announce,
    nights,
    walkers,
)


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
        turn: Turn | None = None
        for attempt in (1, 2):
            turn = None
            try:
                async with self.ctx.store.unit(first_write_begins=True):
                    turn = await self._load(inbound)
                    await self._route_politely(turn)
                    await self._save(turn)
                return turn.replies
            except Exception as error:
                if turn is None and attempt == 1 and connection_lost(error):
                    log.warning("database connection lost (%s); trying once more", cause(error))
                    continue
                log.exception(
                    "dialogue failed on %s input: the turn was not stored", inbound.channel
                )
            break
        return [Outgoing(text=t(_language_after_failure(turn, inbound), "common.sorry"))]

    async def _route_politely(self, turn: Turn) -> None:
        """Route the input; a refusal of the core is said, anything unexpected apologised for
        (what the failed use case wrote is undone by its savepoint)."""
        try:
            await self._route(turn)
        except DomainError as error:
            turn.refuse(error)
        except Exception as error:
            if store_failed(error):
                raise  # the transaction may be unusable: the whole turn fails
            log.exception("dialogue failed on %s input", turn.inbound.channel)
            turn.replies.clear()
            turn.say("common.sorry")

    async def _route(self, turn: Turn) -> None:
        _remember_deep_link(turn)
        if not take_yes(turn):
            return
        if partner.is_partner(turn) and registration.complete(turn) and partner.turned_away(turn):
            return
        inbound = turn.inbound
        if inbound.command in OPEN_COMMANDS:
            await self.commands[inbound.command](turn, inbound.args)
            return
        if not registration.complete(turn):
            if inbound.command == "alarm":  # no alarm without a walk, but 112 first, always
                turn.say("alarm.call_112", text="")
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
            await self.run_command(turn, inbound.command, inbound.args)
        elif inbound.action is not None:
            await self.run_action(turn, inbound.action)
        elif inbound.contact_phone is not None:
            await registration.contact_shared(turn)
        else:
            await self._text(turn, (inbound.text or "").strip())

    async def run_command(self, turn: Turn, command: str, args: str) -> None:
        """Run a command the channel may reach; else say where it is done."""
        if not trust.command_allowed(turn.inbound.channel, command):
            await trust.refuse(turn, trust.audit_name(command=command))
            return
        await self.commands[command](turn, args)

    async def run_action(self, turn: Turn, action: str) -> None:
        """Run an option's action the channel may reach (by SMS: a walker's own)."""
        if not trust.action_allowed(turn.inbound.channel, action):
            await trust.refuse(turn, trust.audit_name(action=action))
            return
        if partner.is_partner(turn) and not partner.action_allowed(action):
            partner.refuse_action(turn)
            return
        prefix = action.split(":", 1)[0]
        handler = self.actions.get(prefix)
        if handler is None:
            turn.say("common.stale_button")
            return
        await handler(turn, action)

    async def continue_pending(self, turn: Turn) -> None:
        """After registration: carry on with the deep link or action that started it (a walker
        waiting for approval is told what comes next; the shift they asked for waits too)."""
        pending = turn.data.pop("then", None)
        if partner.is_partner(turn):
            turn.say("partner.welcome")  # a partner came for the morning picture, not a shift
        elif approval.waiting(turn):
            await approval.wait_with(turn, pending if isinstance(pending, str) else None)
        elif isinstance(pending, str) and pending:
            await self.run_action(turn, pending)
        else:
            await self.commands["shifts"](turn, "")

    async def _text(self, turn: Turn, text: str) -> None:
        offered = turn.data.get("offered") or []
        if turn.flow is not None and turn.flow in self.flows:
            if not trust.flow_allowed(turn.inbound.channel, turn.flow):
                flow = turn.flow
                turn.end_flow()
                await trust.refuse(turn, f"flow.{flow}")
                return
            await self.flows[turn.flow](turn, text)
            return
        number = small_number(text)
        if number is not None and 1 <= number <= len(offered):
            await self.run_action(turn, offered[number - 1])
            return
        word = text.lstrip("/").split(" ", 1)
        if word and word[0].lower() in COMMANDS:
            args = word[1] if len(word) > 1 else ""
            await self.run_command(turn, COMMANDS[word[0].lower()], args)
            return
        turn.say("common.hint")

    # --- persistence ------------------------------------------------------------------------

    async def _load(self, inbound: Inbound) -> Turn:
        """The conversation and the person behind the input (one statement when the channel
        names the person)."""
        caller = Caller(
            channel=inbound.channel,
            address=inbound.address,
            telegram_id=inbound.telegram_id,
            phone=inbound.phone,
            display_name=inbound.display_name,
        )
        conversation, person = await load_conversation(self.ctx, caller)
        return Turn(ctx=self.ctx, inbound=inbound, conversation=conversation, person=person)

    async def _save(self, turn: Turn) -> None:
        """Write the conversation back, with the options just offered (a number answered next
        picks one; asking for help in between forgets none), and note the person's activity."""
        conversation = turn.conversation
        alarm.forget_stale_location(turn)
        if turn.replies and turn.inbound.command != "help":  # help keeps a question's options
            offered = [o.action for reply in turn.replies for o in reply.options]
            conversation.data = {**conversation.data, "offered": offered}
        if turn.person is not None:
            conversation.person_id = turn.person.id
        await save_conversation(self.ctx, conversation, turn.person)


def _language_after_failure(turn: Turn | None, inbound: Inbound) -> str:
    """The turn's language if it can still be told, else the channel's hint: a person who was
    stored before the turn may have had their language changed by the turn that failed."""
    if turn is None or (turn.person is not None and turn.conversation.loaded):
        return pick_language(hint=inbound.language_hint)
    return turn.lang


_DEEP_LINK = re.compile(r"^pass_(\d{1,9})$")


def _remember_deep_link(turn: Turn) -> None:
    """``/start pass_12`` opens shift 12 (after registration, if that comes first)."""
    match = _DEEP_LINK.match(turn.inbound.args.strip())
    if turn.inbound.command == "start" and match:
        turn.data["then"] = f"shift:{int(match.group(1))}"
