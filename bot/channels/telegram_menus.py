"""The Telegram command menus (setMyCommands), derived from the command vocabulary.

Every walker's commands for everyone (Swedish by default, English for ``language_code=en``);
each lead's and coordinator's own chat gets the full list, in their language; each partner's
own chat only what a partner may use (start, help, language, own data).
"""

from __future__ import annotations

import contextlib

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.dialogue.commands import Command, menu, partner_menu
from bot.i18n import pick_language, t
from models.tables import Role
from scheduling.common.context import Context
from scheduling.people import directory


def commands_for(language: str, manager: bool) -> list[BotCommand]:
    """A Telegram command menu in ``language``: every walker's commands, a manager's too."""
    return _menu(language, menu(manager))


def _menu(language: str, commands: list[Command]) -> list[BotCommand]:
    return [BotCommand(c.name(language), t(language, str(c.menu))) for c in commands]


async def publish_commands(bot: Bot, ctx: Context) -> None:
    """Set the default menus and each reachable lead's and coordinator's own."""
    await bot.set_my_commands(commands_for("sv", False), scope=BotCommandScopeDefault())
    await bot.set_my_commands(
        commands_for("en", False), scope=BotCommandScopeDefault(), language_code="en"
    )
    for person in await directory.list_managers(ctx, partners=True):
        if person.telegram_id is None or person.telegram_blocked:
            continue
        lang = pick_language(person.language)
        partner = person.role == Role.PARTNER
        own = _menu(lang, partner_menu()) if partner else commands_for(lang, True)
        with contextlib.suppress(TelegramError):
            await bot.set_my_commands(own, scope=BotCommandScopeChat(person.telegram_id))
