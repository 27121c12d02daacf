"""One exchange with a person: what came in, who they are, and the replies being built.

A ``Turn`` is what every flow step receives. The conversation's state (which flow and step,
and the little data a flow carries) is stored with every turn
(``scheduling.people.conversations``), so a restart mid-dialogue resumes exactly where the
person was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.i18n import error_text, has_text, pick_language, t
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.messages.content import Document, Option, Outgoing
from scheduling.people.access import Actor
from scheduling.people.conversations import ConversationState
from scheduling.people.lookups import PersonView


@dataclass(frozen=True)
class Inbound:
    """What a channel hands the dialogue, already translated from its own format."""

    channel: str  # telegram | sms | console
    address: str  # Telegram user id, E.164 phone number, console name
    text: str | None = None
    command: str | None = None  # canonical name: start, shifts, my, report, help, ...
    args: str = ""
    action: str | None = None  # an option's action, e.g. "signup:42"
    contact_phone: str | None = None  # a shared contact, already checked to be the sender's own
    display_name: str | None = None  # what the channel knows the person as
    language_hint: str | None = None  # e.g. Telegram's language_code
    telegram_id: int | None = None
    phone: str | None = None
    code: str | None = None  # a one-time code typed with the action (SMS: KVITTERA K7QM2X 4821)
    yes_only: bool = False  # Twilio's YES: the answer to a pending yes/no question, or nothing


@dataclass
class Turn:
    ctx: Context
    inbound: Inbound
    conversation: ConversationState
    person: PersonView | None
    replies: list[Outgoing] = field(default_factory=list)

    # --- language and text ------------------------------------------------------------------

    @property
    def lang(self) -> str:
        person_language = self.person.language if self.person is not None else None
        chosen = self.conversation.data.get("lang")
        return pick_language(person_language, chosen, hint=self.inbound.language_hint)

    def text(self, key: str, **params: Any) -> str:
        """The text for ``key``; by SMS its SMS wording where there is one (an SMS never names
        a Telegram command)."""
        return t(self.lang, self._for_channel(key), **params)

    def _for_channel(self, key: str) -> str:
        """An SMS gets ``<key>_sms`` where one exists: its words never name a Telegram command
        (``/pass``) or a file, they name the SMS keyword (``PASS``)."""
        if self.inbound.channel == "sms" and has_text(f"{key}_sms"):
            return f"{key}_sms"
        return key

    def option(self, key: str, action: str, **params: Any) -> Option:
        return Option(label=self.text(key, **params), action=action)

    # --- replies ----------------------------------------------------------------------------

    def say(
        self,
        key: str,
        *,
        options: list[Option] | tuple[Option, ...] = (),
        edit_key: str | None = None,
        request_contact: bool = False,
        **params: Any,
    ) -> None:
        self.send(
            self.text(key, **params),
            options=options,
            edit_key=edit_key,
            request_contact=request_contact,
        )

    def send(
        self,
        text: str,
        *,
        options: list[Option] | tuple[Option, ...] = (),
        edit_key: str | None = None,
        request_contact: bool = False,
        document: Document | None = None,
    ) -> None:
        self.replies.append(
            Outgoing(
                text=text,
                options=tuple(options),
                edit_key=edit_key,
                request_contact=request_contact,
                document=document,
            )
        )

    def refuse(self, error: DomainError) -> None:
        key = self._for_channel(f"error.{error.code}")
        if key != f"error.{error.code}":
            self.send(t(self.lang, key, **error.params))
            return
        self.send(error_text(self.lang, error))

    # --- state ------------------------------------------------------------------------------

    @property
    def flow(self) -> str | None:
        return self.conversation.flow

    @property
    def step(self) -> str | None:
        return self.conversation.step

    @property
    def data(self) -> dict[str, Any]:
        return self.conversation.data

    def goto(self, flow: str, step: str, **data: Any) -> None:
        """Enter (or move within) a flow; ``data`` is merged into what the flow carries."""
        if self.conversation.flow != flow:
            kept = {k: v for k, v in self.conversation.data.items() if k in _KEPT}
            self.conversation.data = kept
        self.conversation.flow = flow
        self.conversation.step = step
        self.conversation.data = {**self.conversation.data, **data}

    def end_flow(self) -> None:
        self.conversation.flow = None
        self.conversation.step = None
        self.conversation.data = {k: v for k, v in self.conversation.data.items() if k in _KEPT}

    @property
    def actor(self) -> Actor:
        assert self.person is not None
        return self.person.actor(self.inbound.channel)

    @property
    def person_id(self) -> int:
        assert self.person is not None
        return self.person.id


# Carried across flows: the chosen language (before a person exists), a pending deep link and
# a location shared for an alarm (``alarm.py``).
_KEPT = frozenset({"lang", "then", "location"})
