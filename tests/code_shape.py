"""The size of the code: modules and functions, measured with `ast`, and the limits they keep.

Run `python -m tests.code_shape` from the repository root to print the figures and whatever is
over a limit; tests/test_architecture.py holds the same limits as a test.

Measured: every `*.py` under bot/, scheduling/, evaluation/ and models/, except Alembic's
migrations (generated). fakes/, tests/ and bench/ are stand-ins and harnesses, not the product,
and are left out. A module's size is its number of lines; a function's, from its `def` line to
its last line (decorators not counted); nested functions and methods count as functions too.
"""

from __future__ import annotations

import argparse
import ast
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOTS = ("bot", "scheduling", "evaluation", "models")
EXCLUDED = ("models/migrations",)

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40
MAX_MEDIAN_MODULE_LINES = 90


@dataclass(frozen=True)
class Module:
    path: str
    lines: int


@dataclass(frozen=True)
class Function:
    path: str
    line: int
    name: str
    lines: int


@dataclass(frozen=True)
class Shape:
    modules: tuple[Module, ...]
    functions: tuple[Function, ...]


def source_files(repo: Path, roots: Iterable[str], excluded: Iterable[str] = ()) -> list[Path]:
    """Return the `*.py` files under `roots`, leaving out the `excluded` folders."""
    skip = [repo / folder for folder in excluded]
    files = []
    for root in roots:
        for path in sorted((repo / root).rglob("*.py")):
            if not any(path.is_relative_to(folder) for folder in skip):
                files.append(path)
    return files


def measure(
    repo: Path = REPO, roots: Iterable[str] = ROOTS, excluded: Iterable[str] = EXCLUDED
) -> Shape:
    """Measure every module and function under `roots`."""
    modules: list[Module] = []
    functions: list[Function] = []
    for path in source_files(repo, roots, excluded):
        name = path.relative_to(repo).as_posix()
        source = path.read_text(encoding="utf-8")
        modules.append(Module(name, len(source.splitlines())))
        for node in ast.walk(ast.parse(source, filename=name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                functions.append(Function(name, node.lineno, node.name, length))
    return Shape(tuple(modules), tuple(functions))


def big_modules(shape: Shape, limit: int = MAX_MODULE_LINES) -> list[str]:
    """Name each module longer than `limit` lines, longest first."""
    return [
        f"{module.path}:1: {module.lines} lines, over the {limit}-line limit for a module"
        for module in sorted(shape.modules, key=lambda m: -m.lines)
        if module.lines > limit
    ]


def long_functions(shape: Shape, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """Name each function longer than `limit` lines, longest first."""
    return [
        f"{fn.path}:{fn.line}: {fn.name}() is {fn.lines} lines, "
        f"over the {limit}-line limit for a function"
        for fn in sorted(shape.functions, key=lambda f: -f.lines)
        if fn.lines > limit
    ]


def median_too_high(shape: Shape, limit: int = MAX_MEDIAN_MODULE_LINES) -> list[str]:
    """Say so when the median module is longer than `limit` lines."""
    if not shape.modules:
        return []
    median = statistics.median(module.lines for module in shape.modules)
    if median <= limit:
        return []
    return [
        f"the median module is {median:g} lines over {len(shape.modules)} modules, "
        f"over the limit of {limit}"
    ]


def quantile(values: Sequence[int], fraction: float) -> int:
    """Return the value at `fraction` of the sorted values (nearest rank, rounding down)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def figures(shape: Shape) -> list[str]:
    """Return the summary lines: counts, median, p90 and max of modules and of functions."""
    lines = []
    for label, sizes in (
        ("modules", [m.lines for m in shape.modules]),
        ("functions", [f.lines for f in shape.functions]),
    ):
        if not sizes:
            lines.append(f"{label:9} 0")
            continue
        lines.append(
            f"{label:9} {len(sizes):4}  median {statistics.median(sizes):g}"
            f"  p90 {quantile(sizes, 0.9)}  max {max(sizes)}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures and what is over a limit; exit 1 when anything is."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.code_shape", description=__doc__.splitlines()[0]
    )
    parser.add_argument("roots", nargs="*", default=list(ROOTS), help="folders to measure")
    args = parser.parse_args(argv)
    shape = measure(REPO, args.roots)
    print("\n".join(figures(shape)))
    over = median_too_high(shape) + big_modules(shape) + long_functions(shape)
    if over:
        print(f"\n{len(over)} over the limits:")
        print("\n".join(f"  {line}" for line in over))
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
