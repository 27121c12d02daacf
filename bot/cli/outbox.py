"""``vandra outbox list``: what was sent to whom, when, by which channel — or why not."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import click

from bot.cli.context import with_context
from bot.cli.errors import ID, BadInput
from bot.cli.output import echo_json
from bot.cli.root import config_option
from bot.presenters import iso_local, table
from models.tables import OutboxMessage, OutboxStatus
from scheduling.common.context import Context
from scheduling.common.localtime import local_day_bounds, parse_date
from scheduling.messages.outbox import list_messages
from scheduling.messages.requeue import requeue_failed

HEADERS = [
    "id",
    "kind",
    "person",
    "channel",
    "status",
    "due",
    "sent",
    "attempts",
    "delivery",
    "note",
]


def outbox_json(message: OutboxMessage, zone: ZoneInfo) -> dict[str, Any]:
    """One outbox row as docs/interface.md pins it (and a little more)."""
    return {
        "id": message.id,
        "kind": message.kind,
        "channel": message.channel,
        "person_id": message.person_id,
        "status": message.status,
        "due_at": iso_local(message.due_at, zone),
        "sent_at": iso_local(message.sent_at, zone),
        "attempts": message.attempts,
        "delivery_status": message.delivery_status,
        "dedupe_key": message.dedupe_key,
        "urgent": message.urgent,
        "expires_at": iso_local(message.expires_at, zone),
        "next_attempt_at": iso_local(message.next_attempt_at, zone),
        "provider_message_id": message.provider_message_id,
        "last_error": message.last_error,
        "created_at": iso_local(message.created_at, zone),
    }


def outbox_row(message: OutboxMessage, zone: ZoneInfo) -> list[object]:
    def short(moment: Any) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}" if moment else ""

    return [
        message.id,
        message.kind,
        message.person_id,
        message.channel,
        message.status,
        short(message.due_at),
        short(message.sent_at),
        message.attempts,
        message.delivery_status,
        (message.last_error or "")[:60],
    ]


@click.group("outbox")
def outbox_group() -> None:
    """Messages to people: queued, sent, failed (unreachable) or expired."""


@outbox_group.command("list")
@click.option(
    "--status",
    type=click.Choice([s for s in OutboxStatus.ALL]),
    help="Only messages in this state (failed ones say why, e.g. unreachable).",
)
@click.option("--limit", type=ID, help="Only the latest N messages.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@config_option
@with_context
async def outbox_list(ctx: Context, status: str | None, limit: int | None, as_json: bool) -> None:
    """List outbox messages, oldest first; times are local.

    \b
    Examples:
      vandra outbox list --status failed      who could not be reached, and why
      vandra outbox list --status sent --json
    """
    async with ctx.store.transaction() as session:
        messages = await list_messages(session, status, limit)
    if as_json:
        echo_json([outbox_json(m, ctx.zone) for m in messages])
    elif not messages:
        click.echo("no messages")
    else:
        click.echo(table(HEADERS, [outbox_row(m, ctx.zone) for m in messages]))


@outbox_group.command("retry")
@click.argument("ids", nargs=-1, type=ID, metavar="[ID]...")
@click.option(
    "--status", type=click.Choice([OutboxStatus.FAILED]),
    help="Every failed message (instead of IDs).",
)
@click.option("--since", metavar="DATE", help="With --status: only those due on or after DATE.")
@config_option
@with_context
async def outbox_retry(
    ctx: Context, ids: tuple[int, ...], status: str | None, since: str | None
) -> None:
    """Put failed messages back in the queue (those that have not expired); prints how many.

    \b
    Examples:
      vandra outbox retry 41 42
      vandra outbox retry --status failed --since 2026-12-01
    """
    if bool(ids) == bool(status):
        raise BadInput("outbox retry: give message IDs or --status failed (not both)")
    if since is not None and status is None:
        raise BadInput("outbox retry: --since goes with --status failed")
    due_since = local_day_bounds(parse_date(since), ctx.zone)[0] if since else None
    count = await requeue_failed(ctx, list(ids) if ids else None, due_since)
    click.echo(f"{count} message(s) queued again")
