"""Where the flows hang their handlers: commands, option actions and free text in a flow.

Each flow module has ``register(routes)``; the engine builds one ``Routes`` from them all and
routes every input through it. The flows know only this module, never the engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.dialogue.turn import Turn

Handler = Callable[[Turn, str], Awaitable[None]]


@dataclass
class Routes:
    """The handlers by command id, by action prefix (``signup`` of ``signup:42``) and by flow."""

    commands: dict[str, Handler] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
    flows: dict[str, Handler] = field(default_factory=dict)

    def command(self, name: str, handler: Handler) -> None:
        self.commands[name] = handler

    def action(self, prefix: str, handler: Handler) -> None:
        self.actions[prefix] = handler

    def flow(self, name: str, handler: Handler) -> None:
        """``handler(turn, text)`` receives free text while the person is in flow ``name``."""
        self.flows[name] = handler
