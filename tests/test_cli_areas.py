"""``vandra areas add NAME --meeting-point TEXT --lat LAT --lon LON``: optional coordinates for
the group intro's map link, both or neither, in range; bad input exits 2 and adds nothing."""

from __future__ import annotations

import json

from tests.test_cli import vandra  # noqa: F401  (the fixture)


def test_areas_with_coordinates(vandra) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    code, out, _ = vandra("areas", "add", "Kvarnholmen", "--meeting-point", "Larmtorget",
                          "--lat", "56.6634", "--lon", "16.3631", "--json")
    assert code == 0
    (area,) = json.loads(out)
    assert (area["latitude"], area["longitude"]) == (56.6634, 16.3631)
    for bad in (["--lat", "56.66"], ["--lat", "91", "--lon", "16"], ["--lat", "56", "--lon", "181"],
                ["--lat", "nan", "--lon", "16"], ["--lat", "norr", "--lon", "16"]):
        code, _, err = vandra("areas", "add", "Baronen", *bad)
        assert code == 2 and err.count("\n") == 1, (bad, err)
    code, out, _ = vandra("areas", "list", "--json")
    assert [a["name"] for a in json.loads(out)] == ["Kvarnholmen"]
