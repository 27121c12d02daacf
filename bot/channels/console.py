"""The console channel (``vandra chat``): the dialogue in a terminal, options numbered.

It is how a newcomer tries the bot without any token, and how a coordinator can act as any
person for support (``--as NAME|PHONE``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.dialogue.commands import COMMANDS
from bot.dialogue.engine import Dialogue
from bot.dialogue.turn import Inbound
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.common.text import normalise_phone
from scheduling.messages.content import Outgoing
from scheduling.people.lookups import name_known

ReadLine = Callable[[str], Awaitable[str | None]]
Write = Callable[[str], None]
QUIT = frozenset({"/quit", "/exit", "/q", "quit", "exit"})


def to_inbound(line: str, address: str, phone: str | None, name: str | None) -> Inbound:
    """A typed line: ``/command args``, or text (a number picks an option)."""
    text = line.strip()
    base = {"channel": "console", "address": address, "phone": phone, "display_name": name}
    if text.startswith("/"):
        word, _, args = text[1:].partition(" ")
        command = COMMANDS.get(word.lower())
        if command is not None:
            return Inbound(command=command, args=args, **base)  # type: ignore[arg-type]
    return Inbound(text=text, **base)  # type: ignore[arg-type]


def render(replies: list[Outgoing]) -> str:
    """Replies as text, with every option numbered in order across the replies."""
    lines: list[str] = []
    number = 0
    for reply in replies:
        lines.append(reply.text)
        for option in reply.options:
            number += 1
            lines.append(f"  {number}) {option.label}")
        if reply.document is not None:
            lines.append(
                f"  [file: {reply.document.filename}, {len(reply.document.content)} bytes]"
            )
    return "\n".join(lines)


def identity(as_who: str | None) -> tuple[str, str | None, str | None]:
    """(address, phone, name) for ``--as``: a phone number or a person's name."""
    if not as_who:
        return "console", None, None
    try:
        phone = normalise_phone(as_who)
    except DomainError:
        return f"console:{as_who.strip().casefold()[:30]}", None, as_who.strip()
    return phone, phone, None


async def may_act_as(ctx: Context, as_who: str) -> bool:
    """``--as`` names a stored person, or is a phone number (which may register, as by SMS):
    an unknown name is refused rather than silently registering somebody new."""
    _, phone, name = identity(as_who)
    return phone is not None or (name is not None and await name_known(ctx, name))


async def chat_loop(
    dialogue: Dialogue, read_line: ReadLine, write: Write, as_who: str | None = None
) -> None:
    """Read lines until EOF or /quit, answering each through the dialogue."""
    address, phone, name = identity(as_who)
    write(
        render(
            await dialogue.handle(
                Inbound(
                    channel="console",
                    address=address,
                    phone=phone,
                    display_name=name,
                    command="start",
                )
            )
        )
    )
    while True:
        line = await read_line("> ")
        if line is None or line.strip().lower() in QUIT:
            return
        if not line.strip():
            continue
        write(render(await dialogue.handle(to_inbound(line, address, phone, name))))
