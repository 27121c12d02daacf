"""`vandra places list|mark` (an addition beside the contract's commands)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.test_cli import seed
from tests.test_cli import vandra as vandra  # the fixture, re-exported


def add_place(folder: Path) -> None:
    """One open place at Baronen (area 1), as a report would have made it."""
    with sqlite3.connect(folder / "cli.db") as db:
        db.execute(
            "INSERT INTO place (area_id, spot, kind, status, open_key, reports, first_seen_at,"
            " last_seen_at, created_at) VALUES (1, 'Larmtorget', 'glass_litter', 'open',"
            " '1|glass_litter|larmtorget', 2, '2026-11-06 20:00:00.000000',"
            " '2026-11-07 20:00:00.000000', '2026-11-07 08:00:00.000000')"
        )


def test_list_and_mark_places(vandra, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The list shows words, not codes; JSON has both; a mark is one line; a bad state or an
    unknown place exits 2 with one line."""
    seed(vandra)
    add_place(tmp_path)
    code, out, err = vandra("places", "list")
    assert code == 0, err
    assert "glass or litter" in out and "glass_litter" not in out and "Larmtorget" in out
    code, out, _ = vandra("places", "list", "--json")
    (place,) = json.loads(out)
    assert place["kind"] == "glass_litter" and place["kind_label"] == "glass or litter"
    assert place["reports"] == 2 and place["first_seen"].startswith("2026-11-06T21:00")
    assert vandra("places", "mark", "1", "reported")[:2] == (0, "place 1: reported\n")
    code, out, _ = vandra("places", "list", "--status", "reported", "--json")
    assert [p["status_label"] for p in json.loads(out)] == ["reported to the kommun"]
    for args in (("1", "broken"), ("99", "fixed")):
        code, out, err = vandra("places", "mark", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
