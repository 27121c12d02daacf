"""Sections for how vandra behaves: time, reminders, walks, dispatch, privacy, payments, logs."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, StringConstraints, field_validator, model_validator

from scheduling.common.config.base import Section
from scheduling.common.config.payments import PaymentSettings as PaymentSettings
from scheduling.common.config.values import Clock, Duration, QuietHours

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


class SchedulingSettings(Section):
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


class ReminderSettings(Section):
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
    group_intro_before: Duration = timedelta(hours=3)  # who walks with whom, where, what to bring
    quiet_hours: Annotated[QuietHours, BeforeValidator(QuietHours.parse)] = QuietHours(
        start=time(22, 0), end=time(8, 0)
    )


class WalkSettings(Section):
    min_age: int = Field(default=18, ge=13, le=99)
    min_walkers: int = Field(default=3, ge=1, le=100)
    max_walkers: int = Field(default=8, ge=1, le=100)
    risk_night_min_walkers: int = Field(default=4, ge=1, le=100)
    trained_walkers_per_shift: int = Field(default=1, ge=0, le=100)
    places: list[str] = Field(default_factory=lambda: list(DEFAULT_PLACES))
    approval: Literal["required", "open"] = "required"
    record_check_valid: int = Field(default=12, ge=1, le=120)  # months a record check holds
    require_record_check: bool = False  # a valid record check is a condition for signing up
    # What to bring, in the group intro: the words vest, torch, phone, first_aid are said in
    # the walker's language; anything else is shown as written.
    checklist: list[Annotated[str, StringConstraints(min_length=1, max_length=60)]] = Field(
        default_factory=lambda: ["vest", "torch", "phone", "first_aid"], max_length=10
    )

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


class NightSettings(Section):
    # who gets an open night: the first lead to take it, or the coordinator among the claims
    allocation: Literal["first_come", "coordinator"] = "first_come"


class DispatchSettings(Section):
    max_attempts: int = Field(default=8, ge=1, le=100)
    max_in_flight: int = Field(default=8, ge=1, le=1000)
    lease: Duration = timedelta(seconds=30)


class AnnouncementSettings(Section):
    per_hour: int = Field(default=4, ge=1, le=100)  # announcements one sender may send an hour


class PrivacySettings(Section):
    report_text_retention_days: int = Field(default=90, ge=1)
    inactive_person_days: int = Field(default=730, ge=1)
    # Filled into the privacy notice served at <public_url>/integritet (and /privacy).
    controller: str | None = Field(default=None, max_length=200)  # the kommun
    contact: str | None = Field(default=None, max_length=200)  # the coordinator's details
    dpo: str | None = Field(default=None, max_length=200)  # the data protection officer


class EvaluationSettings(Section):
    # the longest date range statistics and exports cover (default three years and a day)
    max_range_days: int = Field(default=1096, ge=1, le=36600)
    # processes that compute statistics and exports beside the bot (evaluation/off_loop.py)
    worker_processes: int = Field(default=1, ge=1, le=8)
    # local time of the morning picture to partners and coordinators after a night with walks
    morning_summary_at: Clock = time(8, 0)


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
