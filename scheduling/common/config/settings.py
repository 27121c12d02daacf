"""All sections together: the Settings vandra runs with, and the table of section names."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field

from scheduling.common.config.base import Section
from scheduling.common.config.behaviour import (
    AnnouncementSettings,
    DispatchSettings,
    EvaluationSettings,
    LoggingSettings,
    NightSettings,
    PaymentSettings,
    PrivacySettings,
    ReminderSettings,
    SchedulingSettings,
    WalkSettings,
)
from scheduling.common.config.followups import FollowupSettings
from scheduling.common.config.services import (
    DatabaseSettings,
    HttpSettings,
    SmsSettings,
    TelegramSettings,
)

SECRET_KEYS = frozenset({"token", "webhook_secret", "auth_token", "secret_key"})


class Settings(Section):
    """Everything vandra can be configured with (docs/interface.md, "Configuration")."""

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    scheduling: SchedulingSettings = Field(default_factory=SchedulingSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    walks: WalkSettings = Field(default_factory=WalkSettings)
    nights: NightSettings = Field(default_factory=NightSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    announcements: AnnouncementSettings = Field(default_factory=AnnouncementSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    payments: PaymentSettings = Field(default_factory=PaymentSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    followups: FollowupSettings = Field(default_factory=FollowupSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)

    @property
    def zone(self) -> ZoneInfo:
        return self.scheduling.zone

    def secrets(self) -> list[str]:
        """Every configured secret value, for tests and log scrubbing."""
        values = [self.telegram.token, self.telegram.webhook_secret, self.sms.auth_token,
                  self.http.secret_key]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


SECTIONS: dict[str, type[Section]] = {
    name: field.default_factory  # type: ignore[misc]
    for name, field in Settings.model_fields.items()
}
