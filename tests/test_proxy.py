"""Outgoing API traffic through a forward proxy (HTTPS_PROXY / HTTP_PROXY, NO_PROXY).

`vandra run` sends a broadcast by Telegram (the fake Bot API) and by SMS (the fake Twilio API)
with the proxy variables pointing at a real forward proxy (the `proxy.py` package, started by
the test, with a plugin that notes every request it forwards, tests/proxy_counting.py): every
Bot API and Twilio request the fakes answered went through it. With `NO_PROXY`
naming the fakes' host the same run goes direct and the proxy sees nothing. The fakes speak
plain http, so it is HTTP_PROXY that applies to them; HTTPS_PROXY is set alike (what a real
deployment, talking https, uses: there the proxy carries a CONNECT tunnel).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.proxy import proxy_for
from fakes.telegram_server import FakeTelegramServer
from fakes.twilio_server import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_FROM_NUMBER,
    FakeTwilioServer,
)
from models.db import Store
from scheduling.common.clock import SystemClock
from scheduling.common.config import load_settings
from scheduling.common.context import Context
from scheduling.messages.broadcast import Audience, broadcast
from scheduling.people.directory import add_person, record_consent
from tests.helpers import OPERATOR
from tests.processes import vandra, wait_until
from tests.test_run import free_port, vandra_env

ROOT = Path(__file__).resolve().parents[1]
CHAT = 7_100_001
TEXT = "Extra pass i kväll vid Kalmar C!"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class ForwardProxy:
    """`proxy.py` listening on 127.0.0.1; what it forwarded, one line a request, in a file."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "forwarded.log"
        self.log.touch()
        self.output = folder / "proxy.out"
        self._output = self.output.open("w")
        env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
        env["VANDRA_TEST_PROXY_LOG"] = str(self.log)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port",
             str(self.port), "--num-acceptors", "1", "--num-workers", "1",
             "--plugins", "tests.proxy_counting.CountingPlugin"],
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"proxy.py exited: {self.output.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("proxy.py did not listen within 30 s")

    def requests_to(self, base_url: str) -> list[str]:
        """The requests (``METHOD host:port path``) the proxy forwarded to ``base_url``'s host."""
        target = base_url.removeprefix("http://").rstrip("/")
        return [line for line in self.log.read_text().splitlines() if f" {target} " in line]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._output.close()


@pytest.fixture(scope="module")
def forward_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForwardProxy]:
    pytest.importorskip("proxy", reason="the proxy.py package (a dev dependency) is missing")
    proxy = ForwardProxy(tmp_path_factory.mktemp("proxy"))
    try:
        proxy.wait_ready()
        yield proxy
    finally:
        proxy.stop()


async def seed(env: dict[str, str], cwd: Path) -> str:
    """One walker on Telegram, one by SMS, and a broadcast to both; the SMS number."""
    upgrade = await vandra(env, cwd, "db", "upgrade")
    assert await upgrade.wait() == 0
    settings = load_settings(None, environ=env)
    store = Store.open(settings.database.url)
    ctx = Context(store=store, settings=settings, clock=SystemClock())
    try:
        by_telegram = await add_person(ctx, OPERATOR, name="Tg", telegram_id=CHAT)
        await record_consent(ctx, by_telegram.id or 0)
        by_sms = await add_person(ctx, OPERATOR, name="Sms", phone="0701234567")
        by_sms = await record_consent(ctx, by_sms.id or 0)
        await broadcast(ctx, OPERATOR, TEXT, Audience())
        assert by_sms.phone is not None
        return by_sms.phone
    finally:
        await store.close()


@pytest.mark.parametrize("direct", [False, True], ids=["through-proxy", "no-proxy-for-host"])
async def test_run_sends_through_the_proxy(
    forward_proxy: ForwardProxy, tmp_path: Path, direct: bool
) -> None:
    async with FakeTwilioServer() as tw, FakeTelegramServer() as tg:
        tg.add_user(CHAT, "Tg")
        tg_url, tw_url = tg.base_url, tw.base_url
        port = free_port()
        env = vandra_env(
            tmp_path,
            VANDRA_HTTP_PORT=str(port),
            VANDRA_HTTP_PUBLIC_URL=f"http://127.0.0.1:{port}",
            VANDRA_SMS_ACCOUNT_SID=TEST_ACCOUNT_SID,
            VANDRA_SMS_AUTH_TOKEN=TEST_AUTH_TOKEN,
            VANDRA_SMS_FROM_NUMBER=TEST_FROM_NUMBER,
            VANDRA_SMS_API_BASE_URL=tw.base_url,
            VANDRA_TELEGRAM_TOKEN=tg.token,
            VANDRA_TELEGRAM_API_BASE_URL=tg.base_url,
        )
        for name in [name for name in env if name.lower() in PROXY_VARIABLES]:
            del env[name]
        env.update(HTTP_PROXY=forward_proxy.url, HTTPS_PROXY=forward_proxy.url)
        if direct:
            env["NO_PROXY"] = "127.0.0.1,localhost"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        phone = await seed(env, tmp_path)
        already = len(forward_proxy.requests_to(tg_url)), len(forward_proxy.requests_to(tw_url))

        process = await vandra(env, tmp_path, "run")
        try:
            await wait_until(lambda: any(s.to == phone for s in tw.sent), 30, "the SMS")
            await wait_until(lambda: bool(tg.calls("sendMessage")), 30, "the Telegram message")
        finally:
            process.send_signal(signal.SIGTERM)
            code = await process.wait()
        stderr = (await process.stderr.read()).decode() if process.stderr else ""
        assert code == 0, stderr

    via_telegram = forward_proxy.requests_to(tg_url)[already[0]:]
    via_twilio = forward_proxy.requests_to(tw_url)[already[1]:]
    if direct:
        assert via_telegram == [] and via_twilio == []
        return
    methods = [line.rsplit("/", 1)[1] for line in via_telegram]
    assert methods == [request.method for request in tg.requests], (methods, tg.requests)
    assert "sendMessage" in methods
    assert [line for line in via_twilio if line.startswith("POST ")] == [
        f"POST {tw_url.removeprefix('http://')} /2010-04-01/Accounts/{TEST_ACCOUNT_SID}"
        "/Messages.json"
    ] * tw.requests


@pytest.mark.parametrize(
    ("url", "environ", "expected"),
    [
        ("https://api.telegram.org", {"HTTPS_PROXY": "http://proxy:3128"}, "http://proxy:3128"),
        ("https://api.telegram.org", {"https_proxy": "proxy:3128"}, "http://proxy:3128"),
        ("https://api.telegram.org", {"HTTP_PROXY": "http://proxy:3128"}, None),
        ("http://127.0.0.1:8081", {"HTTP_PROXY": "http://p:1"}, "http://p:1"),
        (
            "https://api.twilio.com",
            {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:1"},
            "http://lower:1",
        ),
        ("https://api.twilio.com", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, None),
        ("https://api.twilio.com", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "twilio.com"}, None),
        ("https://api.twilio.com", {"HTTPS_PROXY": "http://p:1", "no_proxy": ".twilio.com"}, None),
        (
            "https://nottwilio.com",
            {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "twilio.com"},
            "http://p:1",
        ),
        ("https://10.1.2.3", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, None),
        ("https://h:8443", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "h:8443"}, None),
        ("https://h", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "h:8443"}, "http://p:1"),
        ("https://h", {"HTTPS_PROXY": "  "}, None),
    ],
)
def test_proxy_for_reads_the_environment_as_curl_does(
    url: str, environ: dict[str, str], expected: str | None
) -> None:
    assert proxy_for(url, environ) == expected
