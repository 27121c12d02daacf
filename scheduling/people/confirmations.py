"""One-time codes that confirm an irreversible or safety-relevant action taken by SMS.

An SMS names its sender by the From number alone, and that number can be forged; the answer,
though, goes to the number's real owner. So erasing oneself or acknowledging a safety alarm by
SMS first texts a four-digit code to the number ("Svara RADERA 4821 för att bekräfta"), and
only the same action with that code does it (``docs/security.md``). A code is bound to one
person and one ``purpose`` (``delete``, ``ack:<alert id>``, ``out:<shift id>``), stored
salted and hashed, valid ``CODE_VALIDITY``, used once, void after ``MAX_ATTEMPTS`` wrong
guesses; a newer code replaces an older one, and at most ``MAX_CODES_PER_HOUR`` are made per
person and purpose, so guessing stays hopeless. The limit is per purpose because each code is
bound to one: codes asked for erasing (perhaps from a forged number) must not leave a walker
without a code to call off a false alarm. ``MAX_CODES_PER_HOUR_IN_ALL`` bounds the texts one
person can be sent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Literal

from sqlalchemy import func
from sqlmodel import col, select, update

from models.tables import ConfirmationCode
from scheduling.common.context import Context

CODE_VALIDITY = timedelta(minutes=10)
MAX_ATTEMPTS = 3
MAX_CODES_PER_HOUR = 3  # per person and purpose
MAX_CODES_PER_HOUR_IN_ALL = 10  # per person, every purpose together
CODE_DIGITS = 4

Checked = Literal["ok", "wrong", "none"]


def _hash(salt: str, person_id: int, purpose: str, code: str) -> str:
    digest = hashlib.sha256(f"{salt}:{person_id}:{purpose}:{code}".encode()).hexdigest()
    return f"{salt}${digest}"


async def issue_code(ctx: Context, person_id: int, purpose: str) -> str | None:
    """A fresh code for ``purpose`` (older unused ones for it stop working), or None when the
    person has had ``MAX_CODES_PER_HOUR`` codes for it, or ``MAX_CODES_PER_HOUR_IN_ALL`` in
    all, in the last hour."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        recent = await session.exec(
            select(
                func.count(),
                func.count().filter(col(ConfirmationCode.purpose) == purpose),
            ).where(
                col(ConfirmationCode.person_id) == person_id,
                col(ConfirmationCode.created_at) > now - timedelta(hours=1),
            )
        )
        in_all, for_purpose = recent.one()
        if for_purpose >= MAX_CODES_PER_HOUR or in_all >= MAX_CODES_PER_HOUR_IN_ALL:
            return None
        await session.exec(
            update(ConfirmationCode)
            .where(
                col(ConfirmationCode.person_id) == person_id,
                col(ConfirmationCode.purpose) == purpose,
                col(ConfirmationCode.used_at).is_(None),
            )
            .values(used_at=now)
        )
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        session.add(
            ConfirmationCode(
                person_id=person_id,
                purpose=purpose,
                code_hash=_hash(secrets.token_hex(8), person_id, purpose, code),
                created_at=now,
                expires_at=now + CODE_VALIDITY,
            )
        )
    return code


async def use_code(ctx: Context, person_id: int, purpose: str, code: str) -> Checked:
    """"ok" (and the code is used up) when ``code`` is the person's live code for ``purpose``;
    "wrong" counts an attempt (the code is void after ``MAX_ATTEMPTS``); "none" when there is
    no live code for it at all."""
    now = ctx.now()
    async with ctx.store.transaction() as session:
        found = await session.exec(
            select(ConfirmationCode)
            .where(
                col(ConfirmationCode.person_id) == person_id,
                col(ConfirmationCode.purpose) == purpose,
                col(ConfirmationCode.used_at).is_(None),
                col(ConfirmationCode.expires_at) > now,
                col(ConfirmationCode.attempts) < MAX_ATTEMPTS,
            )
            .order_by(col(ConfirmationCode.id).desc())
            .with_for_update()
        )
        row = found.first()
        if row is None:
            return "none"
        salt = row.code_hash.split("$", 1)[0]
        if hmac.compare_digest(row.code_hash, _hash(salt, person_id, purpose, code.strip())):
            row.used_at = now
            session.add(row)
            return "ok"
        row.attempts += 1
        session.add(row)
        return "wrong"
