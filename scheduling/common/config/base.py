"""What every section of the configuration shares: the error naming a key, the strict model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class ConfigError(Exception):
    """The configuration is unusable; the message names the key and what is wrong."""


class Section(BaseModel):
    # strict: a value of the wrong type is refused, not converted ("3" is no number of walkers,
    # "yes" no boolean); the environment's values are read as TOML first (environment.py).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

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
