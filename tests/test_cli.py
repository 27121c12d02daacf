"""The admin command line: output, JSON, exit codes, and bad input that changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

Run = tuple[int, str, str]


@pytest.fixture
def vandra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `vandra ARGS...` in-process on a fresh SQLite file; returns (code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VANDRA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("VANDRA_CONFIG", raising=False)

    def run(*args: str) -> Run:
        code = 0
        try:
            main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def seed(vandra) -> None:  # type: ignore[no-untyped-def]
    assert vandra("orgs", "add", "IFK Kalmar")[0] == 0
    assert vandra("areas", "add", "Baronen", "--meeting-point", "Stationen")[0] == 0


def test_series_across_october_dst_lists_right_local_times(vandra) -> None:  # type: ignore[no-untyped-def]
    """`shifts add --repeat fri,sat --until` then `shifts list` keeps 22:00-03:00 across DST."""
    seed(vandra)
    code, out, _ = vandra(
        "shifts",
        "add",
        "--org",
        "ifk kalmar",
        "--area",
        "baronen",
        "--start",
        "2026-10-23 22:00",
        "--end",
        "2026-10-24 03:00",
        "--repeat",
        "fri,sat",
        "--until",
        "2026-10-31",
    )
    assert code == 0 and out.split() == ["1", "2", "3", "4"]
    code, out, err = vandra(
        "shifts", "list", "--from", "2026-10-23", "--to", "2026-10-31", "--json"
    )
    assert code == 0, err
    listed = json.loads(out)
    assert [(s["start"], s["end"]) for s in listed] == [
        ("2026-10-23T22:00:00+02:00", "2026-10-24T03:00:00+02:00"),
        ("2026-10-24T22:00:00+02:00", "2026-10-25T03:00:00+01:00"),
        ("2026-10-30T22:00:00+01:00", "2026-10-31T03:00:00+01:00"),
        ("2026-10-31T22:00:00+01:00", "2026-11-01T03:00:00+01:00"),
    ]
    code, out, _ = vandra("shifts", "list", "--from", "2026-10-24", "--to", "2026-10-24")
    assert "22:00–03:00 CEST/CET (6 h)" in out


def test_json_objects_carry_the_contract_fields(vandra) -> None:  # type: ignore[no-untyped-def]
    """Shift and person JSON objects have at least the fields docs/interface.md pins."""
    seed(vandra)
    code, out, err = vandra(
        "shifts",
        "add",
        "--org",
        "1",
        "--area",
        "1",
        "--start",
        "2030-05-03 21:00",
        "--end",
        "2030-05-04 01:00",
        "--risk-night",
        "--json",
    )
    assert code == 0, err
    (shift,) = json.loads(out)
    assert {
        "id",
        "organisation",
        "area",
        "meeting_point",
        "start",
        "end",
        "min_walkers",
        "max_walkers",
        "confirmed",
        "waitlisted",
        "status",
        "staffing",
        "risk_night",
    } <= shift.keys()
    assert (shift["min_walkers"], shift["risk_night"], shift["staffing"]) == (
        4,
        True,
        "understaffed",
    )
    _, out, _ = vandra(
        "people",
        "add",
        "--name",
        "Anna",
        "--phone",
        "070-123 45 67",
        "--org",
        "IFK Kalmar",
        "--json",
    )
    (person,) = json.loads(out)
    assert "phone" not in person
    _, out, _ = vandra("people", "list", "--json", "--with-contacts")
    (listed,) = json.loads(out)
    assert {
        "id",
        "name",
        "organisation",
        "role",
        "trained",
        "language",
        "telegram_reachable",
        "sms_reachable",
        "sms_opted_out",
        "phone",
        "telegram_id",
    } <= listed.keys()
    assert listed["phone"] == "+46701234567" and listed["sms_reachable"] is True
    assert "phone" not in json.loads(vandra("people", "list", "--json")[1])[0]


@pytest.mark.parametrize(
    "args",
    [
        [
            "shifts",
            "add",
            "--org",
            "Nope",
            "--area",
            "1",
            "--start",
            "2030-01-04 21:00",
            "--end",
            "2030-01-05 01:00",
        ],
        [
            "shifts",
            "add",
            "--org",
            "1",
            "--area",
            "1",
            "--start",
            "2030-01-04 21:00",
            "--end",
            "2030-01-04 20:00",
        ],
        [
            "shifts",
            "add",
            "--org",
            "1",
            "--area",
            "1",
            "--start",
            "2030-01-04 21:00",
            "--end",
            "2030-01-05 01:00",
            "--min",
            "5",
            "--max",
            "3",
        ],
        ["shifts", "add", "--org", "1", "--area", "1", "--start", "tomorrow", "--end", "later"],
        [
            "shifts",
            "add",
            "--org",
            "1",
            "--area",
            "1",
            "--start",
            "2030-01-04 21:00",
            "--end",
            "2030-01-05 01:00",
            "--repeat",
            "fri,someday",
            "--until",
            "2030-02-01",
        ],
        ["people", "add", "--name", "Bo", "--phone", "12345"],
        ["people", "add", "--name", "   "],
        ["people", "remove", "999"],
        ["shifts", "cancel", "999"],
        ["shifts", "list", "--from", "2030-13-01"],
        ["orgs", "add", "ifk KALMAR"],
        ["shifts", "add", "--org", "1"],
        ["no-such-command"],
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(vandra, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Bad input: exit code 2, exactly one line on stderr, and the store is as it was."""
    seed(vandra)
    before = [
        vandra(*what, "--json")[1]
        for what in (
            ("orgs", "list"),
            ("people", "list"),
            ("shifts", "list", "--from", "2030-01-01"),
        )
    ]
    code, out, err = vandra(*args)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("vandra: ")
    after = [
        vandra(*what, "--json")[1]
        for what in (
            ("orgs", "list"),
            ("people", "list"),
            ("shifts", "list", "--from", "2030-01-01"),
        )
    ]
    assert after == before


def test_bad_config_exits_2_naming_the_key(vandra, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Every command validates the config: a bad key is one line, exit 2."""
    config = tmp_path / "bad.toml"
    config.write_text('[walks]\nmax_walkers = "many"\n', encoding="utf-8")
    code, _, err = vandra("orgs", "list", "--config", str(config))
    assert code == 2 and "[walks] max_walkers" in err
    code, _, err = vandra("--config", str(config), "shifts", "list")
    assert code == 2 and "[walks] max_walkers" in err


def test_out_of_date_schema_is_refused(vandra, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A database behind the code's schema is refused with the command that fixes it."""
    import sqlite3

    seed(vandra)
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0000'")
    code, _, err = vandra("orgs", "list")
    assert code == 2 and "vandra db upgrade" in err


def test_help_shows_examples(vandra) -> None:  # type: ignore[no-untyped-def]
    """Every admin command's --help carries an example."""
    for command in (
        ["orgs", "add"],
        ["areas", "add"],
        ["people", "add"],
        ["shifts", "add"],
        ["shifts", "list"],
        ["shifts", "cancel"],
        ["db", "upgrade"],
    ):
        code, out, _ = vandra(*command, "--help")
        assert code == 0 and "Example" in out, command


@pytest.mark.parametrize(
    "args",
    [
        ["nights", "allocate", "99999999999999999999", "--org", "IFK Kalmar"],
        ["nights", "give-back", "99999999999999999999"],
        ["places", "mark", "99999999999999999999", "fixed"],
        ["shifts", "edit", "99999999999999999999", "--min", "3"],
        ["shifts", "cancel", "99999999999999999999"],
        ["shifts", "cancel", "--series", "99999999999999999999"],
        ["people", "vet", "99999999999999999999", "--course", "2026-01-01"],
        ["people", "approve", "99999999999999999999"],
        ["people", "reject", "99999999999999999999"],
        ["people", "remove", "99999999999999999999"],
        ["people", "data", "99999999999999999999"],
        ["people", "ical", "99999999999999999999"],
        ["outbox", "retry", "99999999999999999999"],
        ["outbox", "list", "--limit", "99999999999999999999"],
    ],
)
def test_an_id_beyond_the_databases_integers_is_bad_input(vandra, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    """An id no database can hold is refused by the command line (exit 2, one line), never
    sent to the database to fail there (exit 1, "OverflowError")."""
    seed(vandra)
    code, _, err = vandra(*args)
    assert code == 2 and len(err.strip().splitlines()) == 1, (args, code, err)
    assert "Overflow" not in err
