"""Webhook secrets shorter than 16 characters are refused at start-up, naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduling.common.config import ConfigError, load_settings
from tests.test_run import vandra, vandra_env


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [("telegram", "webhook_secret", "x"), ("telegram", "webhook_secret", "a" * 15),
     ("sms", "auth_token", "short-token")],
)
def test_short_secrets_are_refused(tmp_path: Path, section: str, key: str, value: str) -> None:
    path = tmp_path / "vandra.toml"
    path.write_text(f'[{section}]\n{key} = "{value}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert f"[{section}] {key}" in message and "16" in message and value not in message


def test_sixteen_characters_and_unset_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "vandra.toml"
    path.write_text('[telegram]\nwebhook_secret = "a-b_c-d_e-f_g-h_"\n', encoding="utf-8")
    assert load_settings(path, environ={}).telegram.webhook_secret is not None


def test_run_exits_2_naming_the_key(tmp_path: Path) -> None:
    env = vandra_env(tmp_path, VANDRA_TELEGRAM_WEBHOOK_SECRET="abc")
    result = vandra("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "[telegram] webhook_secret" in result.stderr and "abc" not in result.stderr
