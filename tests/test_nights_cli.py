"""`vandra nights publish|list|allocate|give-back` on the command line."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli import main


def test_publish_list_allocate_and_give_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VANDRA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("VANDRA_CONFIG", raising=False)

    def vandra(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    for org in ("IFK Kalmar", "Röda Korset"):
        assert vandra("orgs", "add", org)[0] == 0
    assert vandra("areas", "add", "Stortorget")[0] == 0
    friday = date.today() + timedelta(days=30)
    friday += timedelta(days=(4 - friday.weekday()) % 7)
    code, out, err = vandra(
        "nights", "publish", "--area", "stortorget", "--start", f"{friday} 21:00",
        "--end", f"{friday + timedelta(days=1)} 01:00", "--repeat", "fri,sat",
        "--until", str(friday + timedelta(days=8)), "--min", "3", "--json")
    assert code == 0, err
    made = json.loads(out)
    assert [n["status"] for n in made] == ["open"] * 4 and made[0]["min_walkers"] == 3
    assert made[0]["start"].endswith(("+01:00", "+02:00")) and "T21:00" in made[0]["start"]
    first = str(made[0]["id"])
    code, out, err = vandra("nights", "allocate", first, "--org", "ifk kalmar")
    assert code == 0 and "allocated" in out, err
    assert vandra("nights", "allocate", first, "--org", "röda korset")[0] == 2
    (held, *_) = json.loads(vandra("nights", "list", "--json")[1])
    assert (held["organisation"], held["status"]) == ("IFK Kalmar", "held")
    (shift,) = json.loads(vandra("shifts", "list", "--json")[1])
    assert shift["id"] == held["shift_id"] and shift["organisation"] == "IFK Kalmar"
    assert "IFK Kalmar" in vandra("nights", "list")[1]
    code, out, err = vandra("nights", "give-back", first)
    assert code == 0 and "given back" in out, err
    assert json.loads(vandra("nights", "list", "--json")[1])[0]["status"] == "open"
    code, _, err = vandra("nights", "allocate", "999", "--org", "1")
    assert code == 2 and "999" in err
    assert vandra("nights", "publish", "--area", "nowhere", "--start", f"{friday} 21:00",
                  "--end", f"{friday} 23:00")[0] == 2
