"""What is due now: every message the shifts and sign-ups call for, derived from the store.

``compute_due(ctx)`` runs on every tick. Each rule looks only at shifts in its own time window
(indexed by start time), finds what has no outbox row yet and adds it under a deterministic
dedupe key, so a second tick, a restart or a second process adds nothing new. Times are UTC
instants: "2h before" is two real hours, also on the nights the clocks change.

Per walker (this module):
- reminders ``[reminders] before`` the start (``reminder:<label>:signup:<id>``, with ``:r<n>``
  after the shift's n-th move: the moved shift's reminders come afresh), expiring at
  the start. Only for sign-ups confirmed by the reminder's moment: a later sign-up's
  confirmation already carried the details (no row is written for it). A moment passed while
  vandra was down still sends if the shift has not started, else it is recorded ``expired``.
- the check-in prompt at the start (``checkin:signup:<id>``), until the end;
- the report prompt ``report_prompt_after`` the end (``report:signup:<id>``), for 24 h.

Shift-level rules live in ``staffing.py`` (calls for walkers, notices, the final check),
``safety.py`` (the overdue check-out alert), ``replacement.py`` (after a late cancellation) and
``attendance.py`` (who came, asked of the lead after the shift), ``group_intro.py`` (the group
before it meets), ``sharing.py`` (a number shared with the group reaches latecomers too);
``people/vetting.py`` reminds of record checks about to lapse.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from scheduling.common.context import Context
from scheduling.messages.due_planning import (
    WalkerRow,
    label_of,
    mark_done,
    plan,
    revision_suffix,
    walkers_without,
)
from scheduling.messages.kinds import Kind
from scheduling.messages.outbox import NewMessage, enqueue_many
from scheduling.nights.handover import handed_on_nights, reserve_offers
from scheduling.people.vetting import record_check_reminders
from scheduling.walks.attendance import attendance_checks
from scheduling.walks.group_intro import group_intros
from scheduling.walks.replacement import late_cancellation_prompts
from scheduling.walks.safety import raise_safety_alerts, repeat_safety_alerts
from scheduling.walks.series import MAX_SHIFT_LENGTH
from scheduling.walks.sharing import shared_number_messages
from scheduling.walks.staffing import final_checks, fire_alert, pending_alerts, staffing_alerts

log = logging.getLogger("vandra.due")

LOOKBACK = timedelta(hours=24)  # how far back a missed per-walker message is still recorded
# a reminder's moment this far past: every sign-up confirmed by it has long been committed
SETTLED = timedelta(minutes=10)
REPORT_PROMPT_VALID = timedelta(hours=24)

Rule = Callable[[Context, AsyncSession, datetime], Awaitable[list[NewMessage]]]


async def reminders(ctx: Context, session: AsyncSession, now: datetime) -> list[NewMessage]:
    """One reminder per confirmed walker and ``[reminders] before`` entry.

    Once a shift's moment is ``SETTLED`` past, every walker it reminds was confirmed (and
    committed) before this tick: the shift is marked done (``reminded:<label>:shift:<id>:r<n>``)
    with the reminders written, and later ticks no longer read its walkers. So only shifts
    whose moment is recent, or that were never marked (after a stop, or a move: a revision
    of their own), are looked through, not every walker of the last day and the next."""
    messages: list[NewMessage] = []
    for before in ctx.settings.reminders.before:
        label = label_of(before)
        prefix, done = f"reminder:{label}:signup:", f"reminded:{label}:shift:"
        after = now - LOOKBACK
        until = now + before
        rows = await walkers_without(
            session, prefix, starts_after=after, starts_until=until, revised=True, done_mark=done
        )
        planned = len(messages)
        for row in rows:
            moment = row.start_at - before
            if row.confirmed_at is None or row.confirmed_at > moment:
                continue  # signed up after the moment: no stale reminder
            if row.moved_at is not None and row.moved_at > moment:
                continue  # moved after the moment: the change notice said it all
            messages.append(_reminder(ctx, now, row, prefix, moment, label))
        alone = len(messages) == planned  # none of this entry's: the mark stands by itself
        await mark_done(
            session, done, now, starts_after=after, starts_until=until - SETTLED, alone=alone
        )
    return messages


def _reminder(
    ctx: Context, now: datetime, row: WalkerRow, prefix: str, moment: datetime, label: str
) -> NewMessage:
    """A reminder keyed by the shift's revision (``moves``), which its payload carries too:
    one planned before a move is not sent (``relevance.py``)."""
    message = _to_walker(
        ctx, now, row, prefix, Kind.REMINDER, moment, row.start_at, label=label, moves=row.moves
    )
    return replace(message, key=message.key + revision_suffix(row.moves))


async def check_in_prompts(ctx: Context, session: AsyncSession, now: datetime) -> list[NewMessage]:
    """At the start, each confirmed walker is asked to check in."""
    prefix = "checkin:signup:"
    rows = await walkers_without(session, prefix, starts_after=now - LOOKBACK, starts_until=now)
    return [
        _to_walker(ctx, now, row, prefix, Kind.CHECK_IN_PROMPT, row.start_at, row.end_at)
        for row in rows
    ]


async def report_prompts(ctx: Context, session: AsyncSession, now: datetime) -> list[NewMessage]:
    """``report_prompt_after`` the planned end, each walker who came is asked for the report."""
    after = ctx.settings.reminders.report_prompt_after
    prefix = "report:signup:"
    ends_until = now - after
    ends_after = ends_until - LOOKBACK
    rows = await walkers_without(
        session,
        prefix,
        starts_after=ends_after - MAX_SHIFT_LENGTH,
        starts_until=ends_until,
        ends_after=ends_after,
        ends_until=ends_until,
    )
    return [
        _to_walker(
            ctx,
            now,
            row,
            prefix,
            Kind.REPORT_PROMPT,
            row.end_at + after,
            row.end_at + REPORT_PROMPT_VALID,
        )
        for row in rows
        if not row.no_show
    ]


def _to_walker(
    ctx: Context,
    now: datetime,
    row: WalkerRow,
    prefix: str,
    kind: str,
    moment: datetime,
    expires_at: datetime,
    **payload: object,
) -> NewMessage:
    return plan(
        ctx,
        now,
        key=f"{prefix}{row.signup_id}",
        kind=kind,
        person_id=row.person_id,
        moment=moment,
        expires_at=expires_at,
        shift_start=row.start_at,
        payload={"shift_id": row.shift_id, "signup_id": row.signup_id, **payload},
    )


RULES: list[tuple[str, Rule]] = [
    ("safety_raise", raise_safety_alerts),
    ("safety_repeat", repeat_safety_alerts),
    ("reminders", reminders),
    ("check_in_prompts", check_in_prompts),
    ("report_prompts", report_prompts),
    ("final_checks", final_checks),
    ("staffing_alerts", staffing_alerts),
    ("late_cancellations", late_cancellation_prompts),
    ("attendance_checks", attendance_checks),
    ("record_checks", record_check_reminders),
    ("group_intros", group_intros),
    ("shared_numbers", shared_number_messages),
    ("nights_handed_on", handed_on_nights),
    ("night_reserve_offers", reserve_offers),
]


class DueError(Exception):
    """One or more rules failed this tick (each is logged); the others ran."""


async def compute_due(ctx: Context) -> dict[str, int]:
    """Run every rule once, each in its own transaction; how many new outbox rows each wrote.
    Calls for walkers go one shift per transaction, with the event loop free in between: a
    call reaches hundreds of people, and after a long stop (or an import of many shifts)
    hundreds of shifts may be due at once (bench/README.md, the first tick)."""
    now = ctx.now()
    added: dict[str, int] = {}
    failed: list[str] = []
    for name, rule in RULES:
        try:
            if rule is staffing_alerts:
                added[name] = await _alerts_one_by_one(ctx, now)
                continue
            async with ctx.store.transaction() as session:
                messages = await rule(ctx, session, now)
                added[name] = await enqueue_many(session, messages, now) if messages else 0
        except Exception:
            log.exception("due rule %s failed; it runs again next tick", name)
            failed.append(name)
    if failed:
        raise DueError(", ".join(failed))
    return added


async def _alerts_one_by_one(ctx: Context, now: datetime) -> int:
    """The staffing alerts due, each shift's in a transaction of its own."""
    async with ctx.store.transaction() as session:
        pending = await pending_alerts(ctx, session, now)
    added = 0
    for alert in pending:
        await asyncio.sleep(0)  # what else waits for the loop (and the store) goes first
        async with ctx.store.transaction() as session:
            messages = await fire_alert(ctx, session, now, alert)
            added += await enqueue_many(session, messages, now) if messages else 0
    return added
