"""Webhook bodies are read as bounded streams before anything parses them.

An unsigned 100 MB chunked POST to ``/sms/inbound`` is refused after the first 64 kB with the
process's memory growing by less than 5 MB, in process (tracemalloc) and through a served
``vandra run`` (its resident memory); multipart bodies are refused unread; a signed form
still works; the Telegram webhook bounds its body the same way.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from starlette.applications import Starlette

from bot.channels.sms_webhook import sms_routes
from bot.dialogue.engine import Dialogue
from fakes.twilio_server import TEST_AUTH_TOKEN, signed_inbound_form
from scheduling.common.context import Context
from scheduling.walks import signups
from tests.helpers import add_shift, seed_org_area
from tests.test_run import _wait_healthy, free_port, vandra, vandra_env
from tests.test_sms import ANNA, PUBLIC, client_for, sms_ctx, sms_walker

CHUNK = b"&a=" + b"A" * (64 * 1024 - 3)  # each chunk a field of its own
HUNDRED_MB = 100 * 1024 * 1024
FIVE_MB = 5 * 1024 * 1024


async def _chunks(total: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield CHUNK
        sent += len(CHUNK)


async def test_unsigned_chunked_100_mb_is_refused_in_bounded_memory(ctx: Context) -> None:
    """No Content-Length, 100 MB in chunks: 413 after 64 kB, under 5 MB more memory."""
    ctx = sms_ctx(ctx)
    app = Starlette(routes=sms_routes(ctx, Dialogue(ctx)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            response = await client.post(
                "/sms/inbound",
                content=_chunks(HUNDRED_MB),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert response.status_code in (403, 413)
    assert peak - before < FIVE_MB, peak - before


async def test_multipart_and_large_declared_bodies_are_refused_unread(ctx: Context) -> None:
    """Multipart (even signed) is 415; a Content-Length over 64 kB is 413; nothing changes."""
    org, area = await seed_org_area(ctx)
    shift = await add_shift(ctx, org, area)
    ctx = sms_ctx(ctx)
    person = await sms_walker(ctx, org)
    headers, form = signed_inbound_form(
        TEST_AUTH_TOKEN, f"{PUBLIC}/sms/inbound", ANNA, f"JA {shift.id}"
    )
    async with client_for(ctx) as client:
        multipart = await client.post(
            "/sms/inbound", data=form, files={"f": ("x.bin", b"x" * 1000)}, headers=headers
        )
        assert multipart.status_code == 415
        large = await client.post(
            "/sms/inbound",
            content=b"Body=" + b"x" * 70_000,
            headers={**headers, "content-type": "application/x-www-form-urlencoded"},
        )
        assert large.status_code == 413
        for path in ("/sms/inbound", "/sms/status"):
            json_body = await client.post(path, json=form, headers=headers)
            assert json_body.status_code == 415
    assert await signups.my_shifts(ctx, person.id or 0) == []
    async with client_for(ctx) as client:  # the same signed form, url-encoded, still works
        ok = await client.post("/sms/inbound", data=form, headers=headers)
    assert ok.status_code == 200 and "anmäld" in ok.text


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the peak resident memory so far
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _post_chunked(port: int, total: int) -> bytes:
    """Stream ``total`` bytes as a chunked POST; stop when the server answers or closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /sms/inbound HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
        sent = 0
        try:
            while sent < total:
                sock.sendall(frame)
                sent += len(CHUNK)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed the connection: what we want
        sock.settimeout(10)
        try:
            return sock.recv(4096)
        except OSError:
            return b""


def test_served_run_refuses_a_chunked_flood_in_bounded_memory(tmp_path: Path) -> None:
    """A real ``vandra run``: its resident memory grows by under 5 MB for an unsigned 100 MB
    chunked POST (its peak, VmHWM), which is answered 413 or 403 (or the connection closed)
    without reading it all."""
    port = free_port()
    env = vandra_env(
        tmp_path,
        VANDRA_HTTP_PORT=str(port),
        VANDRA_HTTP_PUBLIC_URL=f"http://127.0.0.1:{port}",
        VANDRA_SMS_ACCOUNT_SID="AC" + "0" * 32,
        VANDRA_SMS_AUTH_TOKEN="0123456789abcdef0123456789abcdef",
        VANDRA_SMS_FROM_NUMBER="+46700000000",
        VANDRA_SMS_API_BASE_URL="http://127.0.0.1:9",
    )
    assert vandra("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        _wait_healthy(port, process, accept=(200, 503))
        _post_chunked(port, 256 * 1024)  # warm up: the route's first use allocates once
        time.sleep(0.5)
        before = _peak_rss_kb(process.pid)
        answer = _post_chunked(port, HUNDRED_MB)
        time.sleep(0.5)
        grown = _peak_rss_kb(process.pid) - before
        assert answer == b"" or answer.startswith((b"HTTP/1.1 413", b"HTTP/1.1 403")), answer[:80]
        assert grown * 1024 < FIVE_MB, f"grew by {grown} kB"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_bounded_body_stops_reading_at_its_limit() -> None:
    """The reader the Telegram webhook uses too: a chunked body past the limit is 413, and
    the rest of the stream is never pulled."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from bot.channels.webhook_body import BodyRefused, bounded_body

    pulled = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal pulled
        async for chunk in _chunks(HUNDRED_MB):
            pulled += len(chunk)
            yield chunk

    async def endpoint(request: Request) -> Response:
        try:
            body = await bounded_body(request, 1_000_000)
        except BodyRefused as refused:
            return Response(status_code=refused.status)
        return Response(str(len(body)))

    app = Starlette(routes=[Route("/hook", endpoint, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.post("/hook", content=counted())).status_code == 413
        assert pulled < 2_000_000
        assert (await client.post("/hook", content=b"{}")).text == "2"
