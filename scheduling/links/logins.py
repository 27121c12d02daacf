"""Dashboard sign-in without passwords: a one-time link from the bot starts a session.

A link is ``<public_url>/dashboard/login/<token>``: the token is signed (itsdangerous) with the
configured key (``signing_key``: ``[http] secret_key`` or its key file, never the database),
expires after ``LINK_LIFETIME`` and names a row in ``dashboard_login`` that is marked used in the
same statement that checks it is unused, so a link works once. Opening the link only shows a
button (``check_login`` does not use it up, so a link preview cannot); the button's POST
redeems it. Only coordinators and leads get links; a volunteer asking is refused
(PermissionDenied, audited). The session cookie is signed with the same key and names a row in
``dashboard_session``: it lasts ``SESSION_LIFETIME`` unless signing out revokes it first, and the
person's role is checked again on every request, so a role taken away ends the session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from sqlmodel import col, select, update

from models.tables import DashboardLogin, Person, Role
from models.tables import DashboardSession as SessionRow
from scheduling.common.clock import Clock
from scheduling.common.context import Context
from scheduling.common.errors import DomainError
from scheduling.links.calendar import public_base
from scheduling.links.signing_key import signing_key
from scheduling.people.access import Actor, audit, refuse
from scheduling.people.scope import organisation_scope

LINK_LIFETIME = timedelta(minutes=15)
LONGEST_LIFETIME = timedelta(hours=24)  # the demo's link, read at leisure; never longer
SESSION_LIFETIME = timedelta(hours=12)
SECRET_NAME = "dashboard"
LINK_SALT = "vandra.dashboard.login"
SESSION_SALT = "vandra.dashboard.session"


async def shared_secret(ctx: Context) -> str:
    """The key links and sessions are signed with (from the configuration)."""
    return signing_key(ctx.settings)


def _serializer(secret: str, clock: Clock, salt: str) -> URLSafeTimedSerializer:
    """A signer whose notion of "now" is the context's clock (tests move it)."""

    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return URLSafeTimedSerializer(secret, salt=salt, signer=ClockSigner)


async def issue_dashboard_link(
    ctx: Context, actor: Actor, lifetime: timedelta = LINK_LIFETIME
) -> str:
    """A one-time login link for a coordinator or lead (the bot's /dashboard), valid for
    ``lifetime`` (at most ``LONGEST_LIFETIME``); audited."""
    lifetime = min(lifetime, LONGEST_LIFETIME)
    await organisation_scope(ctx, actor, "dashboard.link")
    if actor.person_id is None:
        raise await refuse(ctx.store, actor, "dashboard.link", ctx.now())
    now = ctx.now()
    jti = secrets.token_urlsafe(24)
    async with ctx.store.transaction() as session:
        session.add(
            DashboardLogin(
                jti=jti, person_id=actor.person_id, issued_at=now, expires_at=now + lifetime
            )
        )
        audit(session, actor, "dashboard.link", now, target=f"person:{actor.person_id}")
    serializer = _serializer(await shared_secret(ctx), ctx.clock, LINK_SALT)
    token = serializer.dumps({"jti": jti, "pid": actor.person_id})
    return f"{public_base(ctx.settings)}/dashboard/login/{token}"


def _invalid() -> DomainError:
    return DomainError("login_link_invalid")


async def _claims(ctx: Context, token: str) -> tuple[str, int]:
    serializer = _serializer(await shared_secret(ctx), ctx.clock, LINK_SALT)
    try:
        # the signature's age bounds every link; each link's own expiry is in its row
        max_age = int(LONGEST_LIFETIME.total_seconds())
        claims: dict[str, Any] = serializer.loads(token, max_age=max_age)
        return str(claims["jti"]), int(claims["pid"])
    except (BadData, KeyError, TypeError, ValueError):
        raise _invalid() from None


async def check_login(ctx: Context, token: str) -> None:
    """Whether a link would sign in now, without using it up (what opening it does):
    DomainError("login_link_invalid") when it would not."""
    jti, person_id = await _claims(ctx, token)
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(DashboardLogin.id).where(
                col(DashboardLogin.jti) == jti,
                col(DashboardLogin.person_id) == person_id,
                col(DashboardLogin.used_at).is_(None),
                col(DashboardLogin.expires_at) > ctx.now(),
            )
        )
        if found.first() is None:
            raise _invalid()


async def redeem_login(ctx: Context, token: str) -> Person:
    """The person a login link was issued to; DomainError("login_link_invalid") when the link
    is forged, expired, already used, or its person may no longer use the dashboard."""
    jti, person_id = await _claims(ctx, token)
    now = ctx.now()
    async with ctx.store.transaction() as session:
        result = await session.exec(
            update(DashboardLogin)
            .where(
                col(DashboardLogin.jti) == jti,
                col(DashboardLogin.person_id) == person_id,
                col(DashboardLogin.used_at).is_(None),
                col(DashboardLogin.expires_at) > now,
            )
            .values(used_at=now)
        )
        if result.rowcount != 1:
            raise _invalid()
        person = await session.get(Person, person_id)
        if person is None or not may_use_dashboard(person):
            raise _invalid()
        audit(session, Actor.of(person, "dashboard"), "dashboard.login", now)
    return person


def may_use_dashboard(person: Person) -> bool:
    """Coordinators, and leads of an organisation, who have not been erased."""
    if person.erased_at is not None:
        return False
    return person.role == Role.COORDINATOR or (
        person.role == Role.LEAD and person.organisation_id is not None
    )


@dataclass(frozen=True)
class DashboardSession:
    person: Person

    @property
    def actor(self) -> Actor:
        return Actor.of(self.person, "dashboard")


async def session_cookie(ctx: Context, person: Person) -> str:
    """A new session for a signed-in person: the signed value of its cookie."""
    assert person.id is not None
    now, sid = ctx.now(), secrets.token_urlsafe(24)
    async with ctx.store.transaction() as session:
        session.add(SessionRow(sid=sid, person_id=person.id, created_at=now,
                               expires_at=now + SESSION_LIFETIME))
    serializer = _serializer(await shared_secret(ctx), ctx.clock, SESSION_SALT)
    return str(serializer.dumps({"pid": person.id, "sid": sid}))


async def _cookie_claims(ctx: Context, value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    serializer = _serializer(await shared_secret(ctx), ctx.clock, SESSION_SALT)
    try:
        claims = serializer.loads(value, max_age=int(SESSION_LIFETIME.total_seconds()))
        return int(claims["pid"]), str(claims["sid"])
    except (BadData, KeyError, TypeError, ValueError):
        return None


async def session_from_cookie(ctx: Context, value: str | None) -> DashboardSession | None:
    """The session a cookie carries, if it is genuine, fresh, not signed out, and its person
    may still sign in."""
    claims = await _cookie_claims(ctx, value)
    if claims is None:
        return None
    person_id, sid = claims
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(Person)
            .join(SessionRow, col(SessionRow.person_id) == col(Person.id))
            .where(
                col(Person.id) == person_id,
                col(SessionRow.sid) == sid,
                col(SessionRow.revoked_at).is_(None),
                col(SessionRow.expires_at) > ctx.now(),
            )
        )
        person = found.first()
    if person is None or not may_use_dashboard(person):
        return None
    return DashboardSession(person)


async def end_session(ctx: Context, value: str | None) -> None:
    """Signing out: the cookie's session is revoked here, so a copy of it is worth nothing."""
    claims = await _cookie_claims(ctx, value)
    if claims is None:
        return
    async with ctx.store.transaction() as session:
        await session.exec(
            update(SessionRow)
            .where(col(SessionRow.sid) == claims[1], col(SessionRow.revoked_at).is_(None))
            .values(revoked_at=ctx.now())
        )
