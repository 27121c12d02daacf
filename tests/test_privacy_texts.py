"""Privacy texts: the masked-kinds notice, the MINA DATA summary, the export command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.channels.gsm7 import is_gsm7, segments
from bot.cli import main
from bot.privacy_texts import masked_notice, my_data_summary, short_notice
from models.tables import AuditEntry
from scheduling.common.context import Context
from scheduling.common.errors import PermissionDenied
from scheduling.common.masking import mask_report_text
from scheduling.people.access import Actor
from scheduling.people.privacy import export_person_data
from scheduling.walks import signups
from tests.helpers import add_people, add_shift, seed_org_area


def test_masked_notice_names_the_kinds_in_the_persons_language() -> None:
    """The reporter is told what was masked, in Swedish or English; nothing when nothing was."""
    kinds = mask_report_text("ring 0701234567 eller a@b.se").masked
    assert masked_notice("sv", kinds) == (
        "Vi maskerade: telefonnummer, e-postadress. En rapport får aldrig kunna peka ut någon."
    )
    assert "phone number, e-mail address" in masked_notice("en", kinds)
    assert masked_notice("sv", []) == ""


def test_short_notice_links_to_the_full_notice() -> None:
    """The registration notice carries the link to docs/privacy.md wherever it is published."""
    assert "https://example.org/privacy" in short_notice("en", "https://example.org/privacy")


async def test_my_data_summary_is_one_plain_sms(ctx: Context) -> None:
    """MINA DATA: counts in the person's language, GSM-7, at most two SMS segments."""
    org, area = await seed_org_area(ctx)
    (person,) = await add_people(ctx, 1, org=org, prefix="Anna Lindqvist")
    walk = await add_shift(ctx, org, area)
    await signups.sign_up(ctx, person.id or 0, walk.id or 0)
    text = await my_data_summary(ctx, person.id or 0)
    # an SMS names no Telegram command (/mina_data), only where the rest is: Telegram
    assert "1 anmälningar (1 kommande)" in text and "i Telegram" in text and "/" not in text
    assert is_gsm7(text) and segments(text) <= 2
    english = await my_data_summary(ctx, person.id or 0, "en")
    assert "in Telegram" in english and "/" not in english


async def test_export_for_someone_else_needs_a_coordinator_and_is_audited(ctx: Context) -> None:
    """A volunteer cannot export another's data (refused, audited); a coordinator's export is."""
    anna, bertil = await add_people(ctx, 2)
    with pytest.raises(PermissionDenied):
        await export_person_data(ctx, Actor.of(anna, "telegram"), bertil.id or 0)
    data = await export_person_data(ctx, Actor.operator(), bertil.id or 0)
    assert data["person"]["name"] == bertil.name
    async with ctx.store.transaction() as session:
        rows = await session.exec(
            select(AuditEntry.outcome).where(col(AuditEntry.action) == "people.data_export")
        )
        assert sorted(rows.all()) == ["ok", "refused"]


def test_people_data_command_prints_the_export_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`vandra people data ID` prints the person's export; an unknown id exits 2."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VANDRA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("VANDRA_CONFIG", raising=False)

    def vandra(*args: str) -> int:
        try:
            main(list(args))
        except SystemExit as exit_:
            return int(exit_.code or 0)
        return 0

    assert vandra("people", "add", "--name", "Anna L", "--phone", "0701234567") == 0
    capsys.readouterr()
    assert vandra("people", "data", "1") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["person"]["phone"] == "+46701234567"
    assert vandra("people", "data", "99") == 2
