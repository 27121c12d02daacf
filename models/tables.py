"""The shared store: SQLModel tables.

Times are timezone-aware UTC (``UTCDateTime``: aware in, aware out, on SQLite and PostgreSQL
alike). Enumerations are stored as short strings so that migrations stay plain. Tables with
``table=True`` skip pydantic validation: input is validated by the use cases in ``scheduling/``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.access_tables import AppSecret as AppSecret
from models.access_tables import CalendarToken as CalendarToken
from models.access_tables import ConfirmationCode as ConfirmationCode
from models.access_tables import DashboardLogin as DashboardLogin
from models.access_tables import DashboardSession as DashboardSession
from models.columns import partial_index, utc_field
from models.followup_tables import FollowUp as FollowUp
from models.followup_tables import FollowUpStatus as FollowUpStatus
from models.night_tables import Night as Night
from models.night_tables import NightClaim as NightClaim
from models.place_tables import Place as Place
from models.place_tables import PlaceReport as PlaceReport
from models.place_tables import PlaceStatus as PlaceStatus
from models.tally_tables import FirstWalk as FirstWalk
from models.tally_tables import WalkTally as WalkTally
from models.tally_tables import WalkTallyDue as WalkTallyDue


class Role:
    VOLUNTEER = "volunteer"
    LEAD = "lead"
    COORDINATOR = "coordinator"
    PARTNER = "partner"  # police, ordningsvakter, fritidsledare: the morning picture only
    ALL = (VOLUNTEER, LEAD, COORDINATOR, PARTNER)


class ShiftStatus:
    PLANNED = "planned"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class SignupStatus:
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # promoted from the waitlist, seat held until they confirm
    CANCELLED = "cancelled"
    HOLDS_SEAT = (CONFIRMED, OFFERED)


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    name_key: str = Field(max_length=120, unique=True)  # casefolded, for lookups
    created_at: datetime = utc_field(nullable=False)


class Area(SQLModel, table=True):
    __tablename__ = "area"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    name_key: str = Field(max_length=120, unique=True)
    meeting_point: str | None = Field(default=None, max_length=200)
    created_at: datetime = utc_field(nullable=False)
    latitude: float | None = None  # the meeting point on a map (optional)
    longitude: float | None = None


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (  # the tick's look for rejected walkers and lapsing record checks: the few
        partial_index("ix_person_rejected", "rejected_at"),
        partial_index("ix_person_record_checked", "record_checked_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    phone: str | None = Field(default=None, max_length=20, unique=True)  # E.164
    telegram_id: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    preferred_channel: str = Field(default="telegram", max_length=16)
    language: str = Field(default="sv", max_length=2)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    role: str = Field(default=Role.VOLUNTEER, max_length=16, index=True)  # leads, coordinators
    trained: bool = False
    consent_at: datetime | None = utc_field()
    age_confirmed_at: datetime | None = utc_field()
    sms_opted_out: bool = False
    sms_unreachable: bool = False
    telegram_blocked: bool = False
    no_show_count: int = 0
    created_at: datetime = utc_field(nullable=False)
    last_active_at: datetime | None = utc_field()
    erased_at: datetime | None = utc_field()  # erased on request: a tombstone without personal data
    approved_at: datetime | None = utc_field()  # None: waiting for a lead's approval
    rejected_at: datetime | None = utc_field()  # turned down: told so, then erased
    waiting_shift_id: int | None = None  # the shift to sign up for once approved
    course_on: date | None = None  # did the walk course (what "trained" means)
    record_checked_on: date | None = None  # a police-record extract was shown (none stored)
    announcements_off: bool = False  # the walker opted out of leads' announcements

    @property
    def registered(self) -> bool:
        """The profile is complete: the person exists with a name and their age is confirmed
        (by the registration dialogue, or by the operator who added them)."""
        return self.age_confirmed_at is not None and self.erased_at is None

    @property
    def may_walk(self) -> bool:
        """Registered and consented to storing their details for walk coordination."""
        return self.registered and self.consent_at is not None

    @property
    def approved(self) -> bool:
        """A lead or the coordinator let them walk (or no approval was needed)."""
        return self.approved_at is not None


class Series(SQLModel, table=True):
    """A recurring set of shifts, defined in local wall time."""

    __tablename__ = "series"
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    area_id: int = Field(foreign_key="area.id")
    weekdays: str = Field(max_length=40)  # "fri,sat"
    local_start: str = Field(max_length=5)  # "21:00"
    local_end: str = Field(max_length=5)  # "01:00"
    first_date: date
    until: date
    created_at: datetime = utc_field(nullable=False)


class Shift(SQLModel, table=True):
    __tablename__ = "shift"
    __table_args__ = (Index("ix_shift_status_start", "status", "start_at"),)
    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    area_id: int = Field(foreign_key="area.id")
    start_at: datetime = utc_field(nullable=False, index=True)
    end_at: datetime = utc_field(nullable=False)
    min_walkers: int
    max_walkers: int
    status: str = Field(default=ShiftStatus.PLANNED, max_length=16)
    notes: str | None = Field(default=None, max_length=500)
    series_id: int | None = Field(default=None, foreign_key="series.id")
    risk_night: bool = False
    created_at: datetime = utc_field(nullable=False)
    cancelled_at: datetime | None = utc_field()
    group_lead_id: int | None = Field(default=None, foreign_key="person.id")  # named for the night
    meeting_point: str | None = Field(default=None, max_length=200)  # None: the area's
    sequence: int = 0  # edits so far: the calendar feed's SEQUENCE
    moves: int = 0  # times its start or end moved: the reminders' revision
    moved_at: datetime | None = utc_field()  # when it last moved


_WALKER_COLUMNS = ("person_id", "checked_in_at", "checked_out_at")


class Signup(SQLModel, table=True):
    __tablename__ = "signup"
    __table_args__ = (
        UniqueConstraint("shift_id", "person_id", name="uq_signup_shift_person"),
        Index("ix_signup_shift_status", "shift_id", "status"),
        # expire_offers: the few rows with an offer (a full index's statistics, all NULL, led
        # SQLite's planner to scan every sign-up instead)
        partial_index("ix_signup_offer_pending", "offer_expires_at"),
        # statistics: a shift's walkers and their times from the index alone
        Index("ix_signup_shift_walkers", "shift_id", "status", *_WALKER_COLUMNS),
    )
    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    status: str = Field(max_length=16)
    queued_at: datetime = utc_field(nullable=False)  # arrival order for the waitlist
    confirmed_at: datetime | None = utc_field()
    offer_expires_at: datetime | None = utc_field()
    offers: int = 0  # seats offered to this sign-up so far: numbers each offer's messages
    cancelled_at: datetime | None = utc_field()
    checked_in_at: datetime | None = utc_field()
    checked_out_at: datetime | None = utc_field()
    no_show: bool = False


class Report(SQLModel, table=True):
    """One walker's post-walk report (see scheduling/walks/reports.py). Never names young people."""

    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("shift_id", "person_id", name="uq_report_shift_person"),
        # the tick's safety net for follow-ups (followups/opening.py): flagged reports by shift
        partial_index("ix_report_flagged", "shift_id", "follow_up IS 1", "follow_up IS TRUE"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")  # None: pseudonymised
    status: str = Field(default="draft", max_length=16)  # draft | submitted
    nothing_happened: bool = False
    walkers_present: int | None = None
    actual_start: datetime | None = utc_field()
    actual_end: datetime | None = utc_field()
    areas: list[str] = Field(default_factory=list, sa_type=JSON)
    youth_met: str | None = Field(default=None, max_length=8)  # 0 | 1-10 | 11-30 | 31-50 | 50+
    mood: str | None = Field(default=None, max_length=8)  # calm | mixed | unruly
    alcohol: str | None = Field(default=None, max_length=8)  # none | some | much
    drugs: bool | None = None
    help_given: list[str] = Field(default_factory=list, sa_type=JSON)
    services_contacted: list[str] = Field(default_factory=list, sa_type=JSON)
    place_issues: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    felt_safe: str | None = Field(default=None, max_length=8)  # yes | partly | no
    follow_up: bool | None = None
    summary: str | None = Field(default=None, max_length=400)
    masked: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = utc_field(nullable=False)
    submitted_at: datetime | None = utc_field()
    updated_at: datetime | None = utc_field()


class AuditEntry(SQLModel, table=True):
    """Who did what, when: every lead or coordinator action and every refusal."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(nullable=False, index=True)
    actor_id: int | None = Field(default=None)  # None: the command line (an operator)
    actor_label: str = Field(max_length=120)
    action: str = Field(max_length=60)
    target: str | None = Field(default=None, max_length=120)
    outcome: str = Field(default="ok", max_length=16)  # ok | refused
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class OutboxStatus:
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"
    ALL = (PENDING, SENDING, SENT, FAILED, EXPIRED)


class OutboxMessage(SQLModel, table=True):
    """One message to one person: what to say (a catalogue key and its values), due when."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "due_at"),
        Index("ix_outbox_status_priority", "status", "priority"),
    )
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=160, unique=True)
    kind: str = Field(max_length=40)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    channel: str | None = Field(default=None, max_length=16)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    urgent: bool = False
    priority: int = 0  # higher first: an alarm jumps everything queued
    only_channel: str | None = Field(default=None, max_length=16)  # None: the routing rule decides
    due_at: datetime = utc_field(nullable=False)
    expires_at: datetime | None = utc_field()
    attempts: int = 0
    next_attempt_at: datetime | None = utc_field()
    claimed_at: datetime | None = utc_field()
    claimed_by: str | None = Field(default=None, max_length=80)
    # The claim is a lease: ``claim_token`` names the claim, ``lease_until`` is renewed while
    # it is held; ``attempt_started_at`` is written before each hand-over to the provider and
    # cleared once the answer is recorded (set on a pending row: an attempt of unknown outcome).
    claim_token: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = utc_field()
    attempt_started_at: datetime | None = utc_field()
    sent_at: datetime | None = utc_field()
    provider_message_id: str | None = Field(default=None, max_length=80, index=True)
    delivery_status: str | None = Field(default=None, max_length=20)
    last_error: str | None = Field(default=None, max_length=300)
    created_at: datetime = utc_field(nullable=False)


class Conversation(SQLModel, table=True):
    """Where a person is in a dialogue flow, per channel, so a restart resumes there."""

    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_conversation_address"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=40)  # telegram user id, phone number, console name
    person_id: int | None = Field(default=None, foreign_key="person.id")
    flow: str | None = Field(default=None, max_length=40)
    step: str | None = Field(default=None, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = utc_field(nullable=False)


class InboundReceipt(SQLModel, table=True):
    """An inbound update already handled (Telegram update_id, Twilio MessageSid)."""

    __tablename__ = "inbound_receipt"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_inbound_external"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=80)
    received_at: datetime = utc_field(nullable=False)


class SafetyAlertStatus:
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"  # somebody checked out after all


class SafetyAlert(SQLModel, table=True):
    """A group checked in and nobody checked out in time: repeated until acknowledged."""

    __tablename__ = "safety_alert"
    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id", unique=True)
    status: str = Field(default=SafetyAlertStatus.OPEN, max_length=16, index=True)
    overdue_at: datetime = utc_field(nullable=False)  # planned end + checkout_overdue_after
    raised_at: datetime = utc_field(nullable=False)
    acknowledged_at: datetime | None = utc_field()
    acknowledged_by: int | None = Field(default=None, foreign_key="person.id")
    acknowledged_label: str | None = Field(default=None, max_length=120)
    resolved_at: datetime | None = utc_field()
    # What texts call the alert (``KVITTERA K7QM2X``): random, so not guessed from the id.
    ref: str | None = Field(default=None, max_length=12, unique=True, index=True)


class DueMark(SQLModel, table=True):
    """A shift-level trigger that has fired (``staffing:24h:shift:12``), so it fires once."""

    __tablename__ = "due_mark"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)
    created_at: datetime = utc_field(nullable=False)


class Broadcast(SQLModel, table=True):
    """A message to many people through the outbox: a call for walkers for a shift (with a
    one-tap sign-up), or a lead's or coordinator's own text to an organisation or a shift."""

    __tablename__ = "broadcast"
    __table_args__ = (Index("ix_broadcast_author_created", "author_id", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    text: str | None = Field(default=None, max_length=1000)  # None: the standard call for walkers
    audience: str = Field(default="", max_length=16)  # organisation | everyone | shift
    author_id: int | None = Field(default=None, foreign_key="person.id")
    author_label: str = Field(default="", max_length=120)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    shift_id: int | None = Field(default=None, foreign_key="shift.id", index=True)
    area_id: int | None = Field(default=None, foreign_key="area.id")  # an announcement by area
    night: date | None = None  # an announcement to those signed up for this local night
    recipients: int = 0
    created_at: datetime = utc_field(nullable=False)


class AlarmStatus:
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CANCELLED = "cancelled"  # a false alarm, called off by the walker who raised it


class Alarm(SQLModel, table=True):
    """A walker on a shift asked for help now (``scheduling/walks/alarms.py``)."""

    __tablename__ = "alarm"
    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    text: str | None = Field(default=None, max_length=300)
    status: str = Field(default=AlarmStatus.OPEN, max_length=16, index=True)
    channel: str = Field(default="", max_length=16)  # where it was raised
    raised_at: datetime = utc_field(nullable=False, index=True)
    latitude: float | None = None
    longitude: float | None = None
    located_at: datetime | None = utc_field()
    acknowledged_at: datetime | None = utc_field()
    acknowledged_by: int | None = Field(default=None, foreign_key="person.id")
    acknowledged_label: str | None = Field(default=None, max_length=120)
    cancelled_at: datetime | None = utc_field()
    # What texts call the alarm (``KVITTERA K7QM2X``): random, so not guessed from the id.
    ref: str | None = Field(default=None, max_length=12, unique=True, index=True)


class SharedNumber(SQLModel, table=True):
    """A walker shared their number with their group for one night (``DELA <id>``): the
    others on that shift get it, nobody else, and the row is deleted when the shift ends
    (``scheduling/walks/sharing.py``). The number itself is read from the person at sending."""

    __tablename__ = "shared_number"
    __table_args__ = (
        UniqueConstraint("shift_id", "person_id", name="uq_shared_number_shift_person"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shift_id: int = Field(foreign_key="shift.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = utc_field(nullable=False)
