"""Running a command body on an opened Context: the store checked, opened and closed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

import click

from bot.cli.errors import BadInput
from bot.cli.root import settings_of
from bot.i18n import operator_language, t
from models.db import schema_state, upgrade
from scheduling.common.clock import Clock
from scheduling.common.config import Settings
from scheduling.common.context import Context

T = TypeVar("T")


async def open_context(
    settings: Settings, *, create_if_empty: bool = True, clock: Clock | None = None
) -> Context:
    """A context on the configured store, refusing a schema that is behind the code's.

    A brand-new empty database is set up on the spot (nothing can be lost by that) unless
    ``create_if_empty`` is off, as for ``vandra run``.
    """
    ctx = Context.create(settings, clock)
    try:
        state = await schema_state(ctx.store.engine)
        if state.empty and create_if_empty:
            await upgrade(ctx.store.engine)
        elif not state.up_to_date:
            key = "error.schema_empty" if state.empty else "error.schema_out_of_date"
            raise BadInput(t(operator_language(), key, current=state.current, head=state.head))
    except BaseException:
        await ctx.store.close()
        raise
    return ctx


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def with_context(function: Callable[..., Awaitable[T]]) -> Callable[..., T]:
    """Run an async command body as ``body(ctx, **params)`` on an opened Context."""

    @wraps(function)
    def wrapper(**params: Any) -> T:
        settings = settings_of(click.get_current_context())

        async def body() -> T:
            ctx = await open_context(settings)
            try:
                return await function(ctx, **params)
            finally:
                await ctx.store.close()

        return run_async(body())

    return wrapper
