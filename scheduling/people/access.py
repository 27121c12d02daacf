"""Who may do what, checked in the core so that no channel can forget it; and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import Store
from models.tables import AuditEntry, Person, Role
from scheduling.common.errors import PermissionDenied

# The sender's number is all that names the sender of an SMS, and it can be forged.
UNTRUSTED_CHANNELS = frozenset({"sms"})


@dataclass(frozen=True)
class Actor:
    """Whoever acts: a person through a channel, or the operator at the command line.

    Through an untrusted channel (SMS) a person has a walker's powers only: no role counts,
    and irreversible actions are refused, unless ``confirmed`` says the action was confirmed
    with a one-time code texted to the number (``scheduling.people.confirmations``)."""

    person_id: int | None
    role: str
    organisation_id: int | None
    label: str
    channel: str = field(default="cli")
    confirmed: bool = False

    @classmethod
    def operator(cls) -> Actor:
        """The command line: full rights (it already has the database)."""
        return cls(
            person_id=None, role=Role.COORDINATOR, organisation_id=None, label="cli", channel="cli"
        )

    @classmethod
    def of(cls, person: Person, channel: str) -> Actor:
        return cls(
            person_id=person.id,
            role=person.role,
            organisation_id=person.organisation_id,
            label=f"person:{person.id}",
            channel=channel,
        )

    @property
    def trusted(self) -> bool:
        """Whether the channel proves who acts (or a one-time code confirmed it)."""
        return self.channel not in UNTRUSTED_CHANNELS or self.confirmed

    @property
    def is_coordinator(self) -> bool:
        return self.role == Role.COORDINATOR and self.trusted

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD and self.trusted

    def may_manage(self, organisation_id: int | None) -> bool:
        """Coordinators manage every organisation; a lead only their own."""
        if self.is_coordinator:
            return True
        return (
            self.is_lead and organisation_id is not None and organisation_id == self.organisation_id
        )


def audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    at: datetime,
    target: str | None = None,
    outcome: str = "ok",
    **details: Any,
) -> None:
    """Record an action (or a refusal) in the audit trail, inside the caller's transaction."""
    session.add(
        AuditEntry(
            at=at,
            actor_id=actor.person_id,
            actor_label=actor.label,
            action=action,
            target=target,
            outcome=outcome,
            details={"channel": actor.channel, **details},
        )
    )


async def refuse(
    store: Store, actor: Actor, action: str, at: datetime, target: str | None = None
) -> PermissionDenied:
    """Audit a refusal whatever becomes of the refused transaction, and return the error."""
    await store.regardless(
        lambda session: audit(session, actor, action, at, target=target, outcome="refused")
    )
    return PermissionDenied(action)


async def require_manager(
    store: Store,
    actor: Actor,
    action: str,
    organisation_id: int | None,
    at: datetime,
    target: str | None = None,
) -> None:
    """Raise PermissionDenied (audited) unless the actor may manage that organisation."""
    if not actor.may_manage(organisation_id):
        raise await refuse(store, actor, action, at, target)


async def require_coordinator(
    store: Store, actor: Actor, action: str, at: datetime, target: str | None = None
) -> None:
    """Raise PermissionDenied (audited) unless the actor is a coordinator."""
    if not actor.is_coordinator:
        raise await refuse(store, actor, action, at, target)
