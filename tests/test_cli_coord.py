"""The coordinator's commands: `vandra export`, `orgs ical`, `people ical`, `dashboard link`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.test_cli import Run, seed
from tests.test_cli import vandra as vandra  # the fixture, re-exported


def add_walk(vandra) -> None:  # type: ignore[no-untyped-def]
    seed(vandra)
    code, _, err = vandra(
        "shifts", "add", "--org", "1", "--area", "1",
        "--start", "2026-11-06 21:00", "--end", "2026-11-07 01:00",
    )  # fmt: skip
    assert code == 0, err


def test_export_writes_an_xlsx_the_tests_can_read_back(vandra, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`vandra export shifts ... --format xlsx --out FILE` writes one sheet with the shift."""
    add_walk(vandra)
    out = tmp_path / "pass.xlsx"
    code, stdout, err = vandra(
        "export", "shifts", "--from", "2026-11-01", "--to", "2026-11-30",
        "--format", "xlsx", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "1 rows" in stdout
    sheet = load_workbook(out)["Pass"]
    assert sheet["A1"].value == "Pass" and sheet["A2"].value == 1


def test_export_csv_format_comes_from_the_file_name(vandra, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without --format, an .csv name gives CSV with a BOM and semicolons."""
    add_walk(vandra)
    out = tmp_path / "stats.csv"
    code, _, err = vandra(
        "export", "stats", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out)
    )
    assert code == 0, err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b";" in raw.splitlines()[0]


@pytest.mark.parametrize(
    "args",
    [
        ["export", "nothing", "--from", "2026-11-01", "--to", "2026-11-30", "--out", "x.csv"],
        ["export", "stats", "--from", "2026-11-30", "--to", "2026-11-01", "--out", "x.csv"],
        ["export", "stats", "--from", "2026-13-01", "--to", "2026-11-01", "--out", "x.csv"],
        ["export", "stats", "--from", "2026-11-01", "--to", "2026-11-30", "--out", "x.txt"],
        ["orgs", "ical", "No such org"],
        ["people", "ical", "999"],
        ["dashboard", "link", "1"],
    ],
)
def test_bad_input_exits_2_with_one_line(vandra, args: list[str], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Bad kinds, ranges, formats, unknown owners and volunteers' links: exit 2, one line."""
    add_walk(vandra)
    assert vandra("people", "add", "--name", "Volunteer")[0] == 0
    code, out, err = vandra(*args)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("vandra: ")
    assert not (tmp_path / "x.csv").exists()


def test_an_export_into_a_missing_folder_is_refused_before_the_work(vandra, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Exit 2 naming the folder; nothing is created."""
    add_walk(vandra)
    code, _, err = vandra(
        "export", "stats", "--from", "2026-11-01", "--to", "2026-11-30", "--out", "no/x.csv"
    )
    assert code == 2 and err == "vandra: export: the folder no does not exist; create it first\n"
    assert not (tmp_path / "no").exists()


def test_ical_links_use_public_url_and_can_be_renewed(vandra, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`orgs ical` prints <public_url>/ical/<token>.ics, the same twice; --renew makes a new one."""
    monkeypatch.setenv("VANDRA_HTTP_PUBLIC_URL", "https://vandra.kalmar.se/app/")
    add_walk(vandra)
    first: Run = vandra("orgs", "ical", "ifk kalmar")
    assert first[0] == 0, first[2]
    url = first[1].strip()
    assert url.startswith("https://vandra.kalmar.se/app/ical/") and url.endswith(".ics")
    assert vandra("orgs", "ical", "1")[1].strip() == url
    renewed = vandra("orgs", "ical", "1", "--renew")[1].strip()
    assert renewed != url and renewed.endswith(".ics")
    assert "1 link(s) revoked" in vandra("orgs", "ical", "1", "--revoke")[1]


def test_people_ical_and_a_coordinators_dashboard_link(vandra, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A person's feed link and a coordinator's one-time dashboard link are printed."""
    monkeypatch.setenv("VANDRA_HTTP_PUBLIC_URL", "https://vandra.kalmar.se")
    seed(vandra)
    code, out, _ = vandra("people", "add", "--name", "Maria", "--role", "coordinator", "--json")
    person = json.loads(out)[0]["id"]
    assert vandra("people", "ical", str(person))[1].startswith("https://vandra.kalmar.se/ical/")
    code, out, err = vandra("dashboard", "link", str(person))
    assert code == 0, err
    assert out.startswith("https://vandra.kalmar.se/dashboard/login/")


def test_help_shows_examples(vandra) -> None:  # type: ignore[no-untyped-def]
    """The new commands' --help carries an example."""
    for command in (["export"], ["orgs", "ical"], ["people", "ical"], ["dashboard", "link"]):
        code, out, _ = vandra(*command, "--help")
        assert code == 0 and "Example" in out, command


def test_an_out_file_is_written_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails before its rename leaves the old file as it was and no part file."""
    import asyncio
    import os

    from bot.cli import out_file
    from models import whole_files

    target = tmp_path / "rapport.pdf"
    target.write_bytes(b"last month")
    path = out_file.checked_out("report", str(target))
    asyncio.run(out_file.write_out(path, b"this month"))
    assert target.read_bytes() == b"this month" and os.stat(target).st_mode & 0o777 == 0o644

    def failing_replace(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(whole_files.os, "replace", failing_replace)
    with pytest.raises(OSError):
        asyncio.run(out_file.write_out(path, b"half of next"))
    assert target.read_bytes() == b"this month"
    assert [p.name for p in tmp_path.iterdir()] == ["rapport.pdf"]
