"""The follow-up queue: a post-walk report marked "needs follow-up" becomes one row here,
tracked until handled (``evaluation/followups/``). Re-exported by ``models.tables``."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.columns import utc_field


class FollowUpStatus:
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    HANDLED = "handled"
    ALL = (OPEN, IN_PROGRESS, HANDLED)


class FollowUp(SQLModel, table=True):
    """One report the coordinator (or the organisation's lead) must act on. Holds no free text
    of its own but a short note, masked like report text and blanked with it."""

    __tablename__ = "follow_up"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", unique=True)
    shift_id: int = Field(foreign_key="shift.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    status: str = Field(default=FollowUpStatus.OPEN, max_length=16, index=True)
    note: str | None = Field(default=None, max_length=400)
    opened_at: datetime = utc_field(nullable=False)
    changed_at: datetime | None = utc_field()
    changed_by: int | None = Field(default=None, foreign_key="person.id")
