"""Logs: one line per event, text or JSON, and no secret ever in a log line or error message."""

from __future__ import annotations

import io
import json
import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from bot.cli import main
from bot.logging_setup import configure_logging, remove_logging_handler
from bot.redaction import REDACTED, redact
from scheduling.common.config import Settings, settings_from_mapping
from tests.test_run import _wait_healthy, free_port, vandra, vandra_env

TOKEN = "123456789:AAE-secretTokenValue_abcdefghijklmnopq"
WEBHOOK_SECRET = "hook-secret-Value_42"
TWILIO_TOKEN = "twilio-auth-token-0123456789abcdef"
SECRETS = (TOKEN, TOKEN.split(":")[1], WEBHOOK_SECRET, TWILIO_TOKEN)
SECRET_ENV = {
    "VANDRA_TELEGRAM_TOKEN": TOKEN,
    "VANDRA_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "VANDRA_SMS_ACCOUNT_SID": "AC" + "0" * 32,
    "VANDRA_SMS_AUTH_TOKEN": TWILIO_TOKEN,
    "VANDRA_SMS_FROM_NUMBER": "+46700000000",
}


@pytest.fixture(autouse=True)
def isolated_logging() -> Iterator[None]:
    """Each test's logging set-up is undone afterwards."""
    root = logging.getLogger()
    level, quiet = root.level, {name: logging.getLogger(name).level for name in ("httpx",)}
    yield
    remove_logging_handler()
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def secret_settings(log_format: str) -> Settings:
    return settings_from_mapping(
        {
            "telegram": {"token": TOKEN, "webhook_secret": WEBHOOK_SECRET},
            "sms": {"account_sid": "AC" + "0" * 32, "auth_token": TWILIO_TOKEN},
            "logging": {"format": log_format, "level": "DEBUG"},
        }
    )


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert quote(TOKEN, safe="") not in text


def provoke_errors_with_secrets(port: int) -> None:
    """Real httpx failures whose URLs carry the token, and messages that name secrets."""
    log = logging.getLogger("vandra.test")
    refusing = httpx.MockTransport(lambda request: httpx.Response(401, request=request))
    with httpx.Client(transport=refusing) as client:
        response = client.get(f"https://api.telegram.org/bot{TOKEN}/getMe")  # httpx logs the URL
        try:
            response.raise_for_status()
        except httpx.HTTPStatusError:
            log.exception("telegram refused us")
    try:
        httpx.get(f"http://127.0.0.1:{port}/bot{TOKEN}/getUpdates", timeout=2)
    except httpx.ConnectError as exc:
        log.error("polling failed: %s at %s", exc, exc.request.url)
    log.warning("webhook secret %s did not match", WEBHOOK_SECRET, extra={"auth": TWILIO_TOKEN})
    log.info("encoded %s", quote(TOKEN, safe=""))
    log.info("database postgresql+psycopg://vandra:pw-%s@db/vandra", "hunter2")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_logs_never_show_a_secret(log_format: str) -> None:
    """Tokens in URLs, tracebacks, arguments and extra fields are all redacted."""
    stream = io.StringIO()
    configure_logging(secret_settings(log_format), stream)
    provoke_errors_with_secrets(free_port())
    output = stream.getvalue()
    assert_no_secret(output)
    assert "hunter2" not in output and output.count(REDACTED) >= 6
    assert "HTTPStatusError" in output and "HTTP Request" in output


def test_json_logs_are_one_object_per_line_with_the_traceback_inside() -> None:
    """format = "json": every line parses; an exception travels in the "exception" field."""
    stream = io.StringIO()
    configure_logging(secret_settings("json"), stream)
    provoke_errors_with_secrets(free_port())
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    refused = next(e for e in entries if e["message"] == "telegram refused us")
    assert refused["level"] == "ERROR" and "Traceback" in refused["exception"]
    assert next(e for e in entries if "did not match" in e["message"])["auth"] == REDACTED


def test_text_logs_keep_a_traceback_on_the_event_line() -> None:
    """format = "text": the traceback is folded onto the event's one line."""
    stream = io.StringIO()
    configure_logging(secret_settings("text"), stream)
    try:
        raise ValueError("first\nsecond")
    except ValueError:
        logging.getLogger("vandra.test").exception("it broke\nbadly")
    (line,) = stream.getvalue().splitlines()
    assert "ERROR vandra.test: it broke\\nbadly\\nTraceback" in line and "second" in line


def test_level_hides_debug_and_quiets_http_request_lines() -> None:
    """At INFO, debug lines and httpx's per-request lines are left out."""
    stream = io.StringIO()
    settings = settings_from_mapping({"logging": {"level": "info"}})
    configure_logging(settings, stream)
    logging.getLogger("vandra.test").debug("hidden")
    logging.getLogger("httpx").info("HTTP Request: GET ...")
    logging.getLogger("vandra.test").info("shown")
    assert stream.getvalue().count("\n") == 1 and "shown" in stream.getvalue()


def test_redact_covers_bot_tokens_and_url_passwords_without_configuration() -> None:
    """Telegram tokens in any URL and passwords in any URL are redacted even if unknown."""
    text = "https://api.telegram.org/bot987654:XYZ_abc-123/sendMessage postgresql://u:p4ss@h/db"
    assert redact(text) == (
        f"https://api.telegram.org/bot{REDACTED}/sendMessage postgresql://u:{REDACTED}@h/db"
    )


def test_cli_error_line_never_shows_a_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`vandra run` failing with a token in the exception: exit 1, one scrubbed line, clean logs."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VANDRA_CONFIG", raising=False)
    monkeypatch.setenv("VANDRA_DATABASE_URL", f"sqlite:///{tmp_path / 'run.db'}")
    monkeypatch.setenv("VANDRA_HTTP_PUBLIC_URL", "https://vandra.example.org")
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)

    async def failing_serve(*_args: object, **_kwargs: object) -> None:
        request = httpx.Request("POST", f"https://api.telegram.org/bot{TOKEN}/setWebhook")
        logging.getLogger("vandra.run").warning("calling %s with %s", request.url, WEBHOOK_SECRET)
        httpx.Response(401, request=request).raise_for_status()

    monkeypatch.setattr("bot.runtime.serve", failing_serve)
    main(["db", "upgrade"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["run"])
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert err.splitlines()[-1].startswith("vandra: HTTPStatusError: Client error '401")
    assert_no_secret(err)
    assert REDACTED in err.splitlines()[-1] and "calling" in err


def test_vandra_run_logs_json_lines_without_secrets(tmp_path: Path) -> None:
    """A real `vandra run` with every secret set logs JSON lines holding none; /metrics works."""
    port, dead = free_port(), free_port()
    env = vandra_env(
        tmp_path,
        VANDRA_HTTP_PORT=str(port),
        VANDRA_HTTP_PUBLIC_URL=f"http://127.0.0.1:{port}",
        VANDRA_TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{dead}",
        VANDRA_SMS_API_BASE_URL=f"http://127.0.0.1:{dead}",
        VANDRA_LOGGING_FORMAT="json",
        VANDRA_LOGGING_LEVEL="debug",
        **SECRET_ENV,
    )
    assert vandra("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    log_file = tmp_path / "run.log"  # a file, not a pipe: debug output must never block it
    with log_file.open("w") as log_stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log_stream,
            text=True,
        )
        _exercise_run(process, port)
    err = log_file.read_text(encoding="utf-8")
    assert process.returncode == 0, err[-2000:]
    entries = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any("public_url is http://" in e["message"] for e in entries)
    assert any("telegram start failed" in e["message"] for e in entries)
    assert_no_secret(err)


def _exercise_run(process: subprocess.Popen[str], port: int) -> None:
    try:
        # Telegram's API is unreachable here, so health says 503 naming it, until it comes up
        health = _wait_healthy(port, process, accept=(200, 503))
        assert health["checks"]["telegram"] == "down"  # type: ignore[index]
        httpx.get(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe", timeout=2)
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert scraped.status_code == 200 and "outbox_lag_seconds 0.0" in scraped.text
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
