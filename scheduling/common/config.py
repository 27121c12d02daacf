"""Typed settings: one TOML file, environment overrides, errors that name the key.

The keys and their defaults are pinned by CONTRACT.md ("Configuration"). Loading order:
``--config PATH``, else ``$VANDRA_CONFIG``, else ``./vandra.toml`` if it exists, else the
built-in defaults. Every key may be overridden from the environment as
``VANDRA_<SECTION>_<KEY>`` (upper case); lists and booleans are written as TOML values there.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_PLACES = [
    "Kalmar C / stationen",
    "Baronen / Ölandshamnen",
    "Larmtorget",
    "Stortorget",
    "Lilla torget",
    "Storgatan",
    "Kalmarsundsparken / slottet",
    "Västerport / Norra Långgatan",
]

SECRET_KEYS = frozenset({"token", "webhook_secret", "auth_token"})
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(Exception):
    """The configuration is unusable; the message names the key and what is wrong."""


def parse_duration(value: object) -> timedelta:
    """Turn ``"90s"``, ``"15m"``, ``"2h"`` or ``"2d"`` into a timedelta of at least one second."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f'expected a duration such as "15m" or "2h", got {value!r}')
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f'expected a duration such as "90s", "15m", "2h" or "2d", got {value!r}')
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 1:
        raise ValueError(f"a duration must be at least 1 second, got {value!r}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Render a timedelta in the largest whole unit (the inverse of parse_duration)."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class QuietHours(BaseModel):
    """A local-time window, possibly crossing midnight, such as 22:00-08:00."""

    model_config = ConfigDict(frozen=True)
    start: time
    end: time

    @classmethod
    def parse(cls, value: object) -> QuietHours:
        if isinstance(value, QuietHours):
            return value
        if isinstance(value, dict):
            return cls.model_validate(value)
        if not isinstance(value, str):
            raise ValueError(f'expected "HH:MM-HH:MM", got {value!r}')
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
        if not match:
            raise ValueError(f'expected "HH:MM-HH:MM" such as "22:00-08:00", got {value!r}')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            return cls(start=time(h1, m1), end=time(h2, m2))
        except ValueError as exc:
            raise ValueError(f"not a valid time range: {value!r}") from exc

    def contains(self, moment: time) -> bool:
        """True when a local wall-clock time falls inside the window."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_unset(cls, data: Any) -> Any:
        """``key = ""`` for an optional key (token, public_url, ...) means "not set"."""
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if not (
                value == "" and key in cls.model_fields and cls.model_fields[key].default is None
            )
        }


class DatabaseSettings(_Section):
    url: str = "sqlite:///data/vandra.db"

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not (value.startswith("sqlite:") or value.startswith("postgresql")):
            raise ValueError(
                "expected sqlite:///path.db or postgresql+psycopg://user@host:5432/db, "
                f"got {value.split(':', 1)[0]!r}"
            )
        return value


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an https:// URL, got {value!r}")
        return value.rstrip("/")


class TelegramSettings(_Section):
    token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: SecretStr | None = None
    max_messages_per_second: float = Field(default=25, gt=0)

    @field_validator("api_base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected a URL such as https://api.telegram.org, got {value!r}")
        return value.rstrip("/")

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @property
    def configured(self) -> bool:
        return self.token is not None and bool(self.token.get_secret_value())


class SmsSettings(_Section):
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    from_number: str | None = None
    messaging_service_sid: str | None = None
    api_base_url: str = "https://api.twilio.com"
    max_messages_per_second: float = Field(default=1, gt=0)
    open_registration: bool = False

    @field_validator("api_base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected a URL such as https://api.twilio.com, got {value!r}")
        return value.rstrip("/")

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.auth_token.get_secret_value())


class SchedulingSettings(_Section):
    timezone: str = "Europe/Stockholm"
    tick_seconds: float = Field(default=15, gt=0, le=3600)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f'unknown time zone {value!r} (e.g. "Europe/Stockholm")') from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ReminderSettings(_Section):
    before: list[Duration] = Field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=2)]
    )
    report_prompt_after: Duration = timedelta(minutes=15)
    checkout_overdue_after: Duration = timedelta(minutes=30)
    staffing_alerts_before: list[Duration] = Field(
        default_factory=lambda: [timedelta(hours=48), timedelta(hours=24)]
    )
    staffing_final_check_before: Duration = timedelta(hours=3)
    promotion_confirm_within: Duration = timedelta(hours=2)
    quiet_hours: Annotated[QuietHours, BeforeValidator(QuietHours.parse)] = QuietHours(
        start=time(22, 0), end=time(8, 0)
    )


class WalkSettings(_Section):
    min_age: int = Field(default=18, ge=13, le=99)
    min_walkers: int = Field(default=3, ge=1, le=100)
    max_walkers: int = Field(default=8, ge=1, le=100)
    risk_night_min_walkers: int = Field(default=4, ge=1, le=100)
    trained_walkers_per_shift: int = Field(default=1, ge=0, le=100)
    places: list[str] = Field(default_factory=lambda: list(DEFAULT_PLACES))

    @model_validator(mode="after")
    def _consistent(self) -> WalkSettings:
        if self.min_walkers > self.max_walkers:
            raise ValueError(
                f"min_walkers ({self.min_walkers}) is larger than max_walkers ({self.max_walkers})"
            )
        if self.risk_night_min_walkers > self.max_walkers:
            raise ValueError(
                f"risk_night_min_walkers ({self.risk_night_min_walkers}) is larger than "
                f"max_walkers ({self.max_walkers})"
            )
        return self


class DispatchSettings(_Section):
    max_attempts: int = Field(default=8, ge=1, le=100)


class PrivacySettings(_Section):
    report_text_retention_days: int = Field(default=90, ge=1)
    inactive_person_days: int = Field(default=730, ge=1)


class PaymentSettings(_Section):
    rate_per_walk: float | None = Field(default=None, ge=0)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(_Section):
    """Everything vandra can be configured with (CONTRACT.md, "Configuration")."""

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    scheduling: SchedulingSettings = Field(default_factory=SchedulingSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    walks: WalkSettings = Field(default_factory=WalkSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    payments: PaymentSettings = Field(default_factory=PaymentSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)

    @property
    def zone(self) -> ZoneInfo:
        return self.scheduling.zone

    def secrets(self) -> list[str]:
        """Every configured secret value, for tests and log scrubbing."""
        values = [self.telegram.token, self.telegram.webhook_secret, self.sms.auth_token]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


SECTIONS: dict[str, type[_Section]] = {
    name: field.default_factory  # type: ignore[misc]
    for name, field in Settings.model_fields.items()
}


def _env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Collect ``VANDRA_<SECTION>_<KEY>`` variables into a nested dict of raw values."""
    overrides: dict[str, dict[str, Any]] = {}
    for name, raw in environ.items():
        if not name.startswith("VANDRA_") or name == "VANDRA_CONFIG":
            continue
        rest = name[len("VANDRA_") :].lower()
        section = next((s for s in SECTIONS if rest.startswith(s + "_")), None)
        if section is None:
            continue  # not ours to judge: VANDRA_ variables outside the sections are ignored
        key = rest[len(section) + 1 :]
        fields = SECTIONS[section].model_fields
        if key not in fields:
            raise ConfigError(f"environment variable {name}: [{section}] has no key {key!r}")
        overrides.setdefault(section, {})[key] = _env_value(fields[key].annotation, raw)
    return overrides


def _env_value(annotation: Any, raw: str) -> Any:
    """Strings are taken as they are; lists, numbers and booleans as TOML values."""
    text_like = annotation in (str, str | None, SecretStr, SecretStr | None) or (
        isinstance(annotation, type) and issubclass(annotation, str)
    )
    if text_like or "Literal" in repr(annotation):
        return raw
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw  # let validation name what is wrong with it


def resolve_config_path(explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    """Which file to read: --config, else $VANDRA_CONFIG, else ./vandra.toml if present."""
    if explicit:
        return Path(explicit)
    if environ.get("VANDRA_CONFIG"):
        return Path(environ["VANDRA_CONFIG"])
    default = Path("vandra.toml")
    return default if default.exists() else None


def load_settings(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read, merge and validate the configuration; raise ConfigError naming the bad key."""
    environ = os.environ if environ is None else environ
    chosen = resolve_config_path(str(path) if path else None, environ)
    data: dict[str, Any] = {}
    if chosen is not None:
        data = _read_toml(chosen)
    for section, values in _env_overrides(environ).items():
        current = data.get(section, {})
        if not isinstance(current, dict):
            raise ConfigError(f"[{section}]: expected a table, got {type(current).__name__}")
        data[section] = {**current, **values}
    return settings_from_mapping(data)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def settings_from_mapping(data: Mapping[str, Any]) -> Settings:
    """Validate a nested mapping (as read from TOML) into Settings."""
    for section, value in data.items():
        if section not in SECTIONS:
            known = ", ".join(f"[{s}]" for s in SECTIONS)
            raise ConfigError(f"unknown section [{section}] (known: {known})")
        if not isinstance(value, dict):
            raise ConfigError(f"[{section}]: expected a table of keys, got a single value")
    try:
        return Settings.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    """One line naming the first bad key, as ``[section] key: what is wrong``."""
    error = exc.errors()[0]
    location = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"[{location[0]}] unknown key {location[-1]!r}"
    if len(location) >= 2:
        key = location[1] + "".join(f"[{part}]" for part in location[2:])
        got = error.get("input")
        suffix = "" if isinstance(got, dict) or got is None else f" (got {got!r})"
        if "got" in message or location[1] in SECRET_KEYS:
            suffix = ""  # never echo a secret back
        return f"[{location[0]}] {key}: {message}{suffix}"
    return f"[{location[0]}]: {message}"
