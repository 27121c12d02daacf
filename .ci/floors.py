"""Print pip constraints that install every direct runtime dependency at its declared floor.

`make test-lowest` installs vandra with these (and the dev tools at their pins from
constraints.txt) in a second environment, so a floor in pyproject.toml that the code has
outgrown fails CI. What the direct dependencies themselves need is resolved as usual.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[canonical(name)] = version.strip()
    lines = []
    for spec in project["dependencies"]:
        match = REQUIREMENT.match(spec)
        assert match, spec
        floor = re.search(r">=\s*([^,;\s]+)", match[3])
        if floor is None:
            print(f"floors: {spec!r} declares no floor", file=sys.stderr)
            return 1
        lines.append(f"{match[1]}=={floor[1]}")
    for spec in project["optional-dependencies"]["dev"]:
        match = REQUIREMENT.match(spec)
        assert match, spec
        if canonical(match[1]) in pins:
            lines.append(f"{match[1]}=={pins[canonical(match[1])]}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
