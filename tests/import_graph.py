"""Who imports whom: the import graph of the code, read with `ast`, and the layer rules over it.

Run `python -m tests.import_graph` from the repository root to print every import against the
layers and every import cycle; tests/test_architecture.py holds the same rules as tests, and
docs/architecture.md explains them.

Every import statement counts, wherever it stands (inside a function or under
`if TYPE_CHECKING:` too): a dependency is a dependency. `from pkg import name` imports the module
`pkg.name` when there is one, else `pkg` itself.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The packages whose modules make up the graph searched for cycles.
GRAPH_ROOTS = ("bot", "scheduling", "evaluation", "models", "fakes")
# Where the layer rules are checked (the graph's packages and the benchmarks).
RULE_ROOTS = (*GRAPH_ROOTS, "bench")

# The outer shell: entry points and wiring, which may import anything.
SHELL = (
    "bot.bootstrap",
    "bot.bootstrap_*",
    "bot.cli",
    "bot.cli_*",
    "bot.runtime",
    "bot.demo",
    "bot.dashboard",
    "bot.http",
    "bot.notifications",
)


@dataclass(frozen=True)
class Import:
    """One imported module, as written at one place in one file."""

    importer: str  # dotted module name of the importing file
    path: str  # the importing file, relative to the repository
    line: int
    target: str  # dotted name of the imported module


@dataclass(frozen=True)
class Rule:
    """Modules matching `importers` must import no module matching `forbidden`."""

    name: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    reason: str


RULES = (
    Rule(
        "models",
        ("models",),
        ("scheduling", "evaluation", "bot", "fakes"),
        "models/ is the bottom layer: it imports none of scheduling/, evaluation/, bot/, fakes/",
    ),
    Rule(
        "scheduling",
        ("scheduling",),
        ("evaluation", "bot", "fakes"),
        "scheduling/ (the core) imports none of evaluation/, bot/, fakes/",
    ),
    Rule(
        "evaluation",
        ("evaluation",),
        ("bot", "fakes"),
        "evaluation/ reads the core and models/ and imports neither bot/ nor fakes/",
    ),
    Rule(
        "dialogue-above",
        ("bot.dialogue",),
        ("bot.channels", *SHELL, "fakes"),
        "bot/dialogue is below the channels and the shell: it imports neither (nor fakes/)",
    ),
    Rule(
        "dialogue-store",
        ("bot.dialogue",),
        ("models.tables", "sqlalchemy", "sqlmodel"),
        "bot/dialogue reaches the store through scheduling/, never tables, sqlalchemy or sqlmodel",
    ),
    Rule(
        "channels",
        ("bot.channels",),
        (*SHELL, "fakes"),
        "bot/channels are adapters below the shell: they import neither it nor fakes/",
    ),
    Rule(
        "fakes",
        ("fakes",),
        ("bot",),
        "fakes/ stand in for Telegram and Twilio and know nothing of vandra's bot/",
    ),
    Rule(
        "bench",
        ("bench",),
        ("tests",),
        "bench/ runs on the installed project and fakes/, never on tests/",
    ),
)
RULE = {rule.name: rule for rule in RULES}


def within(module: str, pattern: str) -> bool:
    """Whether `module` is `pattern` or inside it (`pattern` may hold `*`)."""
    return fnmatchcase(module, pattern) or fnmatchcase(module, pattern + ".*")


def module_name(repo: Path, path: Path) -> str:
    """Return the dotted module name of a file (a package's `__init__` is the package)."""
    parts = list(path.relative_to(repo).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules(repo: Path, roots: Iterable[str]) -> dict[str, Path]:
    """Map the dotted name of every module under `roots` to its file."""
    return {
        module_name(repo, path): path
        for root in roots
        for path in sorted((repo / root).rglob("*.py"))
    }


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """Return the absolute module a `from ... import` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(repo: Path, path: Path, known: Iterable[str] = ()) -> list[Import]:
    """Return every module imported in the file at `path`.

    `known` names the modules of the tree, so that `from pkg import module` counts as importing
    `pkg.module`.
    """
    known = set(known)
    importer = module_name(repo, path)
    name = path.relative_to(repo).as_posix()
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=name)):
        if isinstance(node, ast.Import):
            found += [Import(importer, name, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(importer, path.name == "__init__.py", node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                target = full if full in known else base
                found.append(Import(importer, name, node.lineno, target))
    return list(dict.fromkeys(found))  # one entry per module named on a line


def all_imports(repo: Path, roots: Iterable[str]) -> list[Import]:
    """Return every import in every module under `roots`."""
    modules = find_modules(repo, roots)
    return [found for path in modules.values() for found in imports_of(repo, path, modules)]


def layer_violations(
    repo: Path = REPO, roots: Iterable[str] = RULE_ROOTS, rules: Iterable[Rule] = RULES
) -> list[str]:
    """Name each import that goes against a layer rule, as `file:line: what: rule`."""
    rules = tuple(rules)
    violations = []
    for found in all_imports(repo, roots):
        for rule in rules:
            if any(within(found.importer, p) for p in rule.importers) and any(
                within(found.target, p) for p in rule.forbidden
            ):
                violations.append(
                    f"{found.path}:{found.line}: {found.importer} imports {found.target}"
                    f" — {rule.reason}"
                )
    return violations


def module_graph(repo: Path = REPO, roots: Iterable[str] = GRAPH_ROOTS) -> dict[str, set[str]]:
    """Map each module under `roots` to the modules of the same tree it imports."""
    modules = find_modules(repo, roots)
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for path in modules.values():
        for found in imports_of(repo, path, modules):
            if found.target in modules and found.target != found.importer:
                graph[found.importer].add(found.target)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the groups of two or more modules that import each other, round (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for module in sorted(graph):
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(groups)


def import_cycles(repo: Path = REPO, roots: Iterable[str] = GRAPH_ROOTS) -> list[str]:
    """Describe each import cycle: its modules, then the imports that close it (`file:line`)."""
    roots = tuple(roots)
    modules = find_modules(repo, roots)
    described = []
    for group in strongly_connected(module_graph(repo, roots)):
        members = set(group)
        edges = [
            f"    {found.path}:{found.line}: {found.importer} imports {found.target}"
            for module in group
            for found in imports_of(repo, modules[module], modules)
            if found.target in members and found.target != module
        ]
        described.append(
            f"import cycle between {', '.join(group)} — modules never import each other round;"
            " the lower one must not know the higher:\n" + "\n".join(edges)
        )
    return described


def main(argv: Sequence[str] | None = None) -> int:
    """Print the imports against the layers and the import cycles; exit 1 when there are any."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.import_graph", description=__doc__.splitlines()[0]
    )
    parser.parse_args(argv)
    graph = module_graph()
    edges = sum(len(targets) for targets in graph.values())
    print(f"modules {len(graph)}  imports between them {edges}")
    violations = layer_violations()
    cycles = import_cycles()
    print(f"imports against the layers {len(violations)}  import cycles {len(cycles)}")
    for line in [*violations, *cycles]:
        print(f"  {line}")
    return 1 if violations or cycles else 0


if __name__ == "__main__":
    raise SystemExit(main())
