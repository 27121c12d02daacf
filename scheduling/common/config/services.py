"""Sections for what vandra talks to: the database, its HTTP server, Telegram and Twilio (SMS)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from scheduling.common.config.base import Section


class DatabaseSettings(Section):
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


MIN_SECRET_LENGTH = 16
MIN_KEY_LENGTH = 32


def long_enough(value: SecretStr | None) -> SecretStr | None:
    """A secret that signs or guards a webhook: unset, or at least 16 characters (a short one
    can be guessed)."""
    if value is not None and 0 < len(value.get_secret_value()) < MIN_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters long")
    return value


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None
    # The key that signs dashboard links and sessions; else read from secret_key_file, made
    # there at first use (``scheduling.links.signing_key``). Never kept in the database.
    secret_key: SecretStr | None = None
    secret_key_file: str = "data/secret_key"

    @field_validator("secret_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and 0 < len(value.get_secret_value()) < MIN_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_KEY_LENGTH} characters long")
        return value if value is not None and value.get_secret_value() else None

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an https:// URL, got {value!r}")
        if "?" in value or "#" in value:  # links and Twilio's signed URLs are built on it
            raise ValueError(f"expected a URL without ?query or #fragment, got {value!r}")
        return value.rstrip("/")


class TelegramSettings(Section):
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
        return long_enough(value)

    @property
    def configured(self) -> bool:
        return self.token is not None and bool(self.token.get_secret_value())


class SmsSettings(Section):
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

    @field_validator("auth_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        return long_enough(value)

    @property
    def configured(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.auth_token.get_secret_value())
