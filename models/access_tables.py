"""The tables of access: calendar-feed addresses, dashboard sign-in links and sessions, shared
secrets, and the one-time codes that confirm an SMS action. Re-exported by ``models.tables``,
where the other tables live."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.columns import utc_field


class CalendarToken(SQLModel, table=True):
    """A private, revocable calendar-feed address: one person's or one organisation's shifts."""

    __tablename__ = "calendar_token"
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    created_at: datetime = utc_field(nullable=False)
    revoked_at: datetime | None = utc_field()


class DashboardLogin(SQLModel, table=True):
    """A one-time dashboard login link: used at most once, before it expires."""

    __tablename__ = "dashboard_login"
    id: int | None = Field(default=None, primary_key=True)
    jti: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    issued_at: datetime = utc_field(nullable=False)
    expires_at: datetime = utc_field(nullable=False)
    used_at: datetime | None = utc_field()


class DashboardSession(SQLModel, table=True):
    """A signed-in dashboard session: the cookie names ``sid``; signing out (or expiry) ends
    it here, so a copied cookie is worth nothing afterwards."""

    __tablename__ = "dashboard_session"
    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = utc_field(nullable=False)
    expires_at: datetime = utc_field(nullable=False)
    revoked_at: datetime | None = utc_field()


class AppSecret(SQLModel, table=True):
    """A random secret made on first use and shared by every process (e.g. session signing)."""

    __tablename__ = "app_secret"
    name: str = Field(max_length=40, primary_key=True)
    value: str = Field(max_length=128)
    created_at: datetime = utc_field(nullable=False)


class ConfirmationCode(SQLModel, table=True):
    """A one-time code texted to a person's number to confirm an irreversible or
    safety-relevant SMS action (``purpose``: ``delete``, ``ack:<alert id>``). Stored hashed
    with a salt; used at most once, before it expires, within a few attempts."""

    __tablename__ = "confirmation_code"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    purpose: str = Field(max_length=64)
    code_hash: str = Field(max_length=128)  # "<salt>$<sha256 hex>"
    created_at: datetime = utc_field(nullable=False)
    expires_at: datetime = utc_field(nullable=False)
    attempts: int = 0
    used_at: datetime | None = utc_field()  # used, or replaced by a newer code
