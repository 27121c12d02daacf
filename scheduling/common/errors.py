"""Refusals of the core. Each carries a code (a catalogue key) and the values its text needs.

Channels render them in the person's language; the CLI prints them on one line and exits 2.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule said no. ``code`` names the catalogue entry ``error.<code>``."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        details = ", ".join(f"{k}={v!r}" for k, v in params.items())
        super().__init__(f"{code}({details})" if details else code)


class NotFound(DomainError):
    """An id or name that does not exist (``kind`` is shift, person, organisation, area...)."""

    def __init__(self, kind: str, ref: object) -> None:
        super().__init__(f"{kind}_not_found", ref=str(ref))


class PermissionDenied(DomainError):
    """The actor's role does not allow the action."""

    def __init__(self, action: str) -> None:
        super().__init__("permission_denied", action=action)


class InvalidInput(DomainError):
    """Input that cannot be used as given."""
