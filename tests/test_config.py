"""Configuration: defaults, the file, environment overrides, and errors that name the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scheduling.common.config import ConfigError, load_settings, parse_duration

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def test_defaults_match_the_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no file and no environment, the documented defaults apply."""
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.database.url == "sqlite:///data/vandra.db"
    assert settings.reminders.before == [timedelta(hours=24), timedelta(hours=2)]
    assert settings.reminders.staffing_alerts_before == [timedelta(hours=48), timedelta(hours=24)]
    assert str(settings.reminders.quiet_hours) == "22:00-08:00"
    assert (settings.walks.min_walkers, settings.walks.max_walkers) == (3, 8)
    assert settings.walks.risk_night_min_walkers == 4
    assert settings.telegram.max_messages_per_second == 25
    assert settings.dispatch.max_attempts == 8
    assert settings.payments.rate_per_walk is None
    assert "Baronen / Ölandshamnen" in settings.walks.places


def test_example_config_is_valid_and_complete() -> None:
    """config.example.toml loads and mentions every key there is."""
    from scheduling.common.config import SECTIONS

    load_settings(EXAMPLE, environ={})
    text = EXAMPLE.read_text(encoding="utf-8")
    for section, model in SECTIONS.items():
        assert f"[{section}]" in text
        for key in model.model_fields:
            assert f"{key} =" in text, f"[{section}] {key} is not in config.example.toml"


def test_environment_beats_the_file(tmp_path: Path) -> None:
    """VANDRA_<SECTION>_<KEY> overrides the file; lists and booleans are TOML values."""
    path = tmp_path / "vandra.toml"
    path.write_text('[walks]\nmin_walkers = 2\n[reminders]\nbefore = ["1h"]\n', encoding="utf-8")
    settings = load_settings(
        path,
        environ={
            "VANDRA_WALKS_MIN_WALKERS": "4",
            "VANDRA_REMINDERS_BEFORE": '["24h", "90m"]',
            "VANDRA_SMS_OPEN_REGISTRATION": "true",
            "VANDRA_TELEGRAM_TOKEN": "123:abc",
            "VANDRA_REMINDERS_STAFFING_ALERTS_BEFORE": "[]",
        },
    )
    assert settings.walks.min_walkers == 4
    assert settings.reminders.before == [timedelta(hours=24), timedelta(minutes=90)]
    assert settings.reminders.staffing_alerts_before == []
    assert settings.sms.open_registration is True
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == "123:abc"


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    """$VANDRA_CONFIG names the file when --config is not given."""
    path = tmp_path / "other.toml"
    path.write_text("[http]\nport = 9000\n", encoding="utf-8")
    assert load_settings(environ={"VANDRA_CONFIG": str(path)}).http.port == 9000


@pytest.mark.parametrize(
    ("toml", "environ", "expected"),
    [
        ("[nope]\nx = 1\n", {}, "unknown section [nope]"),
        ("[walks]\nminwalkers = 1\n", {}, "[walks] unknown key 'minwalkers'"),
        ('[walks]\nmin_walkers = "three"\n', {}, "[walks] min_walkers:"),
        ("[walks]\nmin_walkers = 9\n", {}, "[walks]: min_walkers (9) is larger"),
        ('[reminders]\nbefore = ["2 weeks"]\n', {}, "[reminders] before[0]:"),
        ('[reminders]\nreport_prompt_after = "0s"\n', {}, "at least 1 second"),
        ('[reminders]\nquiet_hours = "22-08"\n', {}, "[reminders] quiet_hours:"),
        (
            '[scheduling]\ntimezone = "Mars/Olympus"\n',
            {},
            "[scheduling] timezone: unknown time zone",
        ),
        ('[database]\nurl = "mysql://x"\n', {}, "[database] url:"),
        ("", {"VANDRA_WALKS_MAXWALKERS": "3"}, "VANDRA_WALKS_MAXWALKERS: [walks] has no key"),
        ("[walks\n", {}, "is not valid TOML"),
        # a wrong type is refused, not converted (the contract: a wrong type is exit 2)
        ('[walks]\nmin_walkers = "3"\n', {}, "[walks] min_walkers: Input should be a valid"),
        ('[sms]\nopen_registration = "yes"\n', {}, "[sms] open_registration:"),
        ("[sms]\nopen_registration = 1\n", {}, "[sms] open_registration:"),
        ("[payments]\nrate_per_walk = inf\n", {}, "[payments] rate_per_walk: Input should be"),
        ("[payments]\nrate_per_walk = nan\n", {}, "[payments] rate_per_walk:"),
        ("[payments]\nrate_per_walk = 1e300\n", {}, "[payments] rate_per_walk:"),
        ("", {"VANDRA_WALKS_MIN_WALKERS": "three"}, "[walks] min_walkers:"),
        ('[http]\npublic_url = "https://x.se/a?b=c"\n', {}, "[http] public_url: expected a URL"),
    ],
)
def test_bad_config_names_the_key(
    tmp_path: Path, toml: str, environ: dict[str, str], expected: str
) -> None:
    """Every kind of mistake gives one line that names the key."""
    path = tmp_path / "vandra.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=environ)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_bad_secret_is_not_echoed(tmp_path: Path) -> None:
    """A malformed webhook secret is refused without repeating it."""
    path = tmp_path / "vandra.toml"
    path.write_text('[telegram]\nwebhook_secret = "sp ace secret!"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert "webhook_secret" in str(caught.value)
    assert "sp ace secret!" not in str(caught.value)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    """An explicitly named file that does not exist is an error, not silently the defaults."""
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", environ={})


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200), ("2d", 172800)]
)
def test_durations(text: str, seconds: int) -> None:
    """Durations are an integer and a unit."""
    assert parse_duration(text) == timedelta(seconds=seconds)
