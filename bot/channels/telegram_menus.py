"""The Telegram command menus (setMyCommands), derived from the command vocabulary.

Every walker's commands for everyone (Swedish by default, English for ``language_code=en``);
each lead's and coordinator's own chat gets the full list, in their language.
"""

from __future__ import annotations

import contextlib

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.dialogue.commands import menu
from bot.i18n import pick_language, t
from scheduling.common.context import Context
from scheduling.people import directory


def commands_for(language: str, manager: bool) -> list[BotCommand]:
    """A Telegram command menu in ``language``: every walker's commands, a manager's too."""
    return [BotCommand(c.name(language), t(language, str(c.menu))) for c in menu(manager)]


async def publish_commands(bot: Bot, ctx: Context) -> None:
    """Set the default menus and each reachable lead's and coordinator's own."""
    await bot.set_my_commands(commands_for("sv", False), scope=BotCommandScopeDefault())
    await bot.set_my_commands(
        commands_for("en", False), scope=BotCommandScopeDefault(), language_code="en"
    )
    for person in await directory.list_managers(ctx):
        if person.telegram_id is None or person.telegram_blocked:
            continue
        lang = pick_language(person.language)
        with contextlib.suppress(TelegramError):
            await bot.set_my_commands(
                commands_for(lang, True), scope=BotCommandScopeChat(person.telegram_id)
            )
