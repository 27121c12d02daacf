"""One-time dashboard links: signed, 15 minutes, single use, coordinators and leads only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from models.tables import AuditEntry, Role
from scheduling.common.clock import ManualClock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError, PermissionDenied
from scheduling.links import logins
from scheduling.people.access import Actor
from tests.helpers import add_people, seed_org_area


async def person_actor(ctx: Context, role: str) -> Actor:
    org, _ = await seed_org_area(ctx)
    person = (await add_people(ctx, 1, org=org, role=role, prefix=role))[0]
    return Actor.of(person, "telegram")


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


async def test_link_signs_in_once(ctx: Context) -> None:
    """A fresh link gives the person; the same link a second time is refused."""
    actor = await person_actor(ctx, Role.COORDINATOR)
    link = await logins.issue_dashboard_link(ctx, actor)
    assert link.startswith("http://127.0.0.1:8080/dashboard/login/")
    person = await logins.redeem_login(ctx, token_of(link))
    assert person.id == actor.person_id
    with pytest.raises(DomainError, match="login_link_invalid"):
        await logins.redeem_login(ctx, token_of(link))


async def test_link_expires_after_15_minutes(ctx: Context, clock: ManualClock) -> None:
    """Sixteen minutes later the link no longer works."""
    actor = await person_actor(ctx, Role.LEAD)
    link = await logins.issue_dashboard_link(ctx, actor)
    clock.advance(timedelta(minutes=16))
    with pytest.raises(DomainError, match="login_link_invalid"):
        await logins.redeem_login(ctx, token_of(link))


async def test_forged_or_altered_link_is_refused(ctx: Context) -> None:
    """A token with a changed character, or made up, is refused."""
    actor = await person_actor(ctx, Role.COORDINATOR)
    token = token_of(await logins.issue_dashboard_link(ctx, actor))
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (altered, "made-up", ""):
        with pytest.raises(DomainError, match="login_link_invalid"):
            await logins.redeem_login(ctx, bad)


async def test_volunteer_is_refused_a_link_and_the_refusal_is_audited(ctx: Context) -> None:
    """/dashboard from a volunteer: PermissionDenied, and the audit trail records it."""
    actor = await person_actor(ctx, Role.VOLUNTEER)
    with pytest.raises(PermissionDenied):
        await logins.issue_dashboard_link(ctx, actor)
    async with ctx.store.transaction() as session:
        entries = (
            await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "dashboard.link"))
        ).all()
    assert [(e.actor_id, e.outcome) for e in entries] == [(actor.person_id, "refused")]


async def test_session_cookie_round_trips_and_expires(ctx: Context, clock: ManualClock) -> None:
    """A session cookie names its person until it is 12 hours old; garbage names nobody."""
    actor = await person_actor(ctx, Role.COORDINATOR)
    person = await logins.redeem_login(ctx, token_of(await logins.issue_dashboard_link(ctx, actor)))
    cookie = await logins.session_cookie(ctx, person)
    session = await logins.session_from_cookie(ctx, cookie)
    assert session is not None and session.person.id == person.id
    assert await logins.session_from_cookie(ctx, "garbage") is None
    clock.advance(timedelta(hours=13))
    assert await logins.session_from_cookie(ctx, cookie) is None


async def test_secret_is_made_once_and_shared(ctx: Context) -> None:
    """The signing secret is created on first use and the same afterwards."""
    first = await logins.shared_secret(ctx)
    assert len(first) >= 48 and await logins.shared_secret(ctx) == first
