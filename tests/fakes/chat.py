"""A person talking to the dialogue directly, as a channel would hand it their input."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.dialogue.engine import Dialogue
from bot.dialogue.turn import Inbound
from scheduling.messages.content import Outgoing


@dataclass
class Chat:
    dialogue: Dialogue
    channel: str = "telegram"
    address: str = "1001"
    telegram_id: int | None = 1001
    phone: str | None = None
    name: str | None = "Anna"
    language_hint: str | None = "sv"
    replies: list[Outgoing] = field(default_factory=list)

    def _inbound(self, **what: object) -> Inbound:
        return Inbound(
            channel=self.channel,
            address=self.address,
            telegram_id=self.telegram_id,
            phone=self.phone,
            display_name=self.name,
            language_hint=self.language_hint,
            **what,
        )  # type: ignore[arg-type]

    async def command(self, name: str, args: str = "") -> str:
        self.replies = await self.dialogue.handle(self._inbound(command=name, args=args))
        return self.text

    async def say(self, text: str) -> str:
        self.replies = await self.dialogue.handle(self._inbound(text=text))
        return self.text

    async def act(self, action: str) -> str:
        self.replies = await self.dialogue.handle(self._inbound(action=action))
        return self.text

    async def tap(self, label: str) -> str:
        """Press the (first) offered option whose label contains ``label``."""
        return await self.act(self.action_of(label))

    async def share_contact(self, phone: str) -> str:
        self.replies = await self.dialogue.handle(self._inbound(contact_phone=phone))
        return self.text

    def action_of(self, label: str) -> str:
        for reply in self.replies:
            for option in reply.options:
                if label.casefold() in option.label.casefold():
                    return option.action
        offered = [o.label for r in self.replies for o in r.options]
        raise AssertionError(f"no option {label!r} among {offered}")

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)

    @property
    def labels(self) -> list[str]:
        return [o.label for r in self.replies for o in r.options]
