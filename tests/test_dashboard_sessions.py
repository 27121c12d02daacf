"""Dashboard sign-in after the red-team: a link preview's GET does not use a one-time link (the
page's button POSTs it, with a CSRF token); signing out revokes the session in the store; the
signing key comes from the configuration or a key file, never from the database."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import select

from bot.dashboard import issue_dashboard_link
from models.tables import AppSecret, Role
from scheduling.common.config import settings_from_mapping
from scheduling.common.context import Context
from scheduling.links import logins
from scheduling.links.signing_key import key_from_file, signing_key
from scheduling.people.access import Actor
from tests.coord_data import DataSet
from tests.test_dashboard import client, data, https_ctx, path_of, person, press_sign_in

__all__ = ["client", "data", "https_ctx"]  # fixtures used below


async def _link(ctx: Context) -> str:
    coordinator = await person(ctx, Role.COORDINATOR, None, "Maria K")
    return path_of(await issue_dashboard_link(ctx, Actor.of(coordinator, "telegram")))


async def test_a_link_preview_does_not_use_the_link(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """Three GETs (a preview, a scanner, the person) show the button and set no session;
    the button's POST then signs in, once."""
    path = await _link(https_ctx)
    for _ in range(3):
        opened = await client.get(path)
        assert opened.status_code == 200 and 'method="post"' in opened.text
        assert "vandra_session" not in opened.headers.get("set-cookie", "")
    signed_in = await press_sign_in(client, path)
    assert signed_in.status_code == 303 and "vandra_session=" in signed_in.headers["set-cookie"]
    assert (await client.get("/dashboard/")).status_code == 200
    assert (await press_sign_in(client, path)).status_code == 403


async def test_the_button_needs_the_pages_csrf_token(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """A POST without the token, with another token, or from a browser without the page's
    cookie is refused and leaves the link unused."""
    path = await _link(https_ctx)
    await client.get(path)
    assert (await client.post(path, data={})).status_code == 403
    assert (await client.post(path, data={"csrf": "forged"})).status_code == 403
    page = await client.get(path)
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    client.cookies.clear()
    assert (await client.post(path, data={"csrf": token})).status_code == 403
    assert (await press_sign_in(client, path)).status_code == 303


async def test_logout_revokes_the_session_in_the_store(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """A copy of the cookie taken before signing out is worth nothing afterwards."""
    await press_sign_in(client, await _link(https_ctx))
    copied = client.cookies.get("vandra_session")
    assert copied and (await client.get("/dashboard/")).status_code == 200
    assert (await client.post("/dashboard/logout")).status_code == 200
    client.cookies.set("vandra_session", copied, domain="vandra.test", path="/natt/dashboard")
    assert (await client.get("/dashboard/")).status_code == 401
    assert await logins.session_from_cookie(https_ctx, copied) is None


async def test_the_key_is_not_in_the_database(
    https_ctx: Context, data: DataSet, client: httpx.AsyncClient
) -> None:
    """Signing in stores no key; a cookie signed with another key names nobody."""
    await press_sign_in(client, await _link(https_ctx))
    async with https_ctx.store.sessions() as session:
        assert (await session.exec(select(func.count()).select_from(AppSecret))).one() == 0
    cookie = client.cookies.get("vandra_session")
    other_key = https_ctx.settings.model_copy(
        update={"http": https_ctx.settings.http.model_copy(
            update={"secret_key": settings_from_mapping(
                {"http": {"secret_key": "another-key-" + "x" * 32}}).http.secret_key})})
    other = Context(https_ctx.store, other_key, https_ctx.clock)
    assert await logins.session_from_cookie(other, cookie) is None


def test_key_file_is_made_once_private_and_shared(tmp_path: Path) -> None:
    """Without [http] secret_key the key file is made at first use (mode 0600) and read
    back the same by every later use."""
    path = tmp_path / "keys" / "secret_key"
    settings = settings_from_mapping({"http": {"secret_key_file": str(path)}})
    first = signing_key(settings)
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    key_from_file.cache_clear()
    assert signing_key(settings) == first and len(first) >= 48
    configured = settings_from_mapping({"http": {"secret_key": "k" * 40}})
    assert signing_key(configured) == "k" * 40
