"""Telegram updates as dialogue input: who writes, in which language, and what they ask."""

from __future__ import annotations

from dataclasses import replace

from bot.dialogue.commands import COMMANDS
from bot.dialogue.turn import Inbound


def base_inbound(user_id: int, first_name: str | None, language: str | None) -> Inbound:
    return Inbound(
        channel="telegram",
        address=str(user_id),
        telegram_id=user_id,
        display_name=first_name,
        language_hint=language,
    )


def text_inbound(text: str, user_id: int, first_name: str | None, language: str | None) -> Inbound:
    """``/cmd args`` (``/cmd@botname`` too) becomes a command; anything else is text."""
    base = base_inbound(user_id, first_name, language)
    stripped = text.strip()
    if stripped.startswith("/"):
        word, _, args = stripped[1:].partition(" ")
        name = word.split("@", 1)[0].lower()
        return replace(base, command=COMMANDS.get(name, name or "unknown"), args=args[:200])
    return replace(base, text=stripped[:4096])



def location_action(latitude: float, longitude: float, live: str = "") -> str:
    """A shared location as the dialogue's ``loc:<lat>:<lon>[:live]`` action."""
    action = f"loc:{latitude:.5f}:{longitude:.5f}"
    return f"{action}:live" if live else action
