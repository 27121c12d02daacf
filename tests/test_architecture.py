"""The architecture as tests: the layers, no import cycles, and the size of modules and functions.

docs/architecture.md explains the layers. The checkers live in tests/import_graph.py and
tests/code_shape.py (both runnable: `python -m tests.import_graph`, `python -m tests.code_shape`);
the second half of this file feeds them small made-up trees, so that a check which found
nothing because it looked at nothing cannot pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import code_shape, import_graph
from tests.import_graph import RULE, RULES, Rule

# --- the real tree -------------------------------------------------------------------------


def _assert_none(found: list[str], rule: str) -> None:
    """Fail naming every finding (file:line and the rule) when there is any."""
    assert not found, f"{rule}: {len(found)} found\n" + "\n".join(found)


def _layer(name: str) -> list[str]:
    return import_graph.layer_violations(rules=[RULE[name]])


def test_models_is_the_bottom_layer() -> None:
    """models/ imports none of scheduling/, evaluation/, bot/ or fakes/."""
    _assert_none(_layer("models"), RULE["models"].reason)


def test_scheduling_imports_neither_bot_nor_evaluation() -> None:
    """scheduling/, the core, imports none of bot/, evaluation/ or fakes/."""
    _assert_none(_layer("scheduling"), RULE["scheduling"].reason)


def test_evaluation_never_imports_bot() -> None:
    """evaluation/ may import scheduling/ and models/, but never bot/ or fakes/."""
    _assert_none(_layer("evaluation"), RULE["evaluation"].reason)


def test_dialogue_imports_neither_channels_nor_the_shell() -> None:
    """bot/dialogue never imports bot/channels, the outer shell (cli, runtime, demo, dashboard,
    http, notifications, bootstrap) or fakes/."""
    _assert_none(_layer("dialogue-above"), RULE["dialogue-above"].reason)


def test_dialogue_never_touches_tables_or_sql() -> None:
    """bot/dialogue never imports models.tables, sqlalchemy or sqlmodel: the core does that."""
    _assert_none(_layer("dialogue-store"), RULE["dialogue-store"].reason)


def test_channels_never_import_the_shell() -> None:
    """bot/channels never import the outer shell or fakes/; the shell wires them up."""
    _assert_none(_layer("channels"), RULE["channels"].reason)


def test_fakes_never_import_bot() -> None:
    """fakes/ (the stand-in Bot API and Twilio) never import bot/."""
    _assert_none(_layer("fakes"), RULE["fakes"].reason)


def test_bench_never_imports_tests() -> None:
    """bench/ never imports tests/."""
    _assert_none(_layer("bench"), RULE["bench"].reason)


def test_no_import_cycles() -> None:
    """No two modules of bot/, scheduling/, evaluation/, models/, fakes/ import each other round,
    directly or through others."""
    _assert_none(import_graph.import_cycles(), "no import cycles")


def test_no_module_over_400_lines() -> None:
    """Outside fakes/, tests/, bench/ and the migrations, no module is over 400 lines."""
    _assert_none(code_shape.big_modules(code_shape.measure()), "modules of at most 400 lines")


def test_no_function_over_40_lines() -> None:
    """Outside fakes/, tests/, bench/ and the migrations, no function is over 40 lines."""
    _assert_none(code_shape.long_functions(code_shape.measure()), "functions of at most 40 lines")


def test_median_module_at_most_90_lines() -> None:
    """Outside fakes/, tests/, bench/ and the migrations, the median module is at most 90 lines."""
    _assert_none(code_shape.median_too_high(code_shape.measure()), "a median module of 90 lines")


def test_the_checks_read_the_whole_tree() -> None:
    """The checkers see every package: the modules the layers are about are in the graph."""
    graph = import_graph.module_graph()
    for package in ("models", "scheduling", "evaluation", "bot.dialogue", "bot.channels", "fakes"):
        assert any(module.startswith(f"{package}.") for module in graph), package
    assert len(graph) > 50
    assert sum(len(targets) for targets in graph.values()) > 200
    bench = import_graph.find_modules(import_graph.REPO, ["bench"])
    assert len(bench) >= 3
    shape = code_shape.measure()
    assert len(shape.modules) > 50
    assert len(shape.functions) > 300
    assert not any(m.path.startswith("models/migrations") for m in shape.modules)


def test_the_figures_print(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m tests.code_shape` and `python -m tests.import_graph` print their figures."""
    code_shape.main([])
    import_graph.main([])
    out = capsys.readouterr().out
    assert "modules" in out
    assert "functions" in out
    assert "median" in out
    assert "import cycles" in out


# --- the checkers catch what they are for (made-up trees) ----------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (path -> source) under `root`, with an `__init__.py` in every folder."""
    for name, source in files.items():
        path = root / name
        for folder in path.relative_to(root).parents:
            if folder != Path("."):
                (root / folder).mkdir(parents=True, exist_ok=True)
                (root / folder / "__init__.py").touch()
        path.write_text(source, encoding="utf-8")
    return root


def _module_file(module: str) -> str:
    """Return a file for a module inside `module` (a package name)."""
    return module.replace("*", "x").replace(".", "/") + "/somewhere.py"


CASES = [(rule, forbidden.replace("*", "x")) for rule in RULES for forbidden in rule.forbidden]


@pytest.mark.parametrize(
    ("rule", "forbidden"), CASES, ids=[f"{rule.name}-{target}" for rule, target in CASES]
)
def test_layer_check_catches_each_forbidden_import(
    tmp_path: Path, rule: Rule, forbidden: str
) -> None:
    """An import of a forbidden layer is reported with its file, line and the rule's reason."""
    importer = _module_file(rule.importers[0])
    _tree(tmp_path, {importer: f'"""A module."""\n\nimport {forbidden}.inner\n'})
    found = import_graph.layer_violations(tmp_path, rules=[rule])
    assert found == [
        f"{importer}:3: {importer[:-3].replace('/', '.')} imports {forbidden}.inner — {rule.reason}"
    ]


def test_layer_check_reads_from_imports_and_relative_imports(tmp_path: Path) -> None:
    """`from pkg import module` names the module; relative imports are resolved; the lines are
    where the import stands, also inside a function."""
    _tree(
        tmp_path,
        {
            "models/tables.py": "",
            "bot/channels/sms.py": "",
            "bot/dialogue/flow.py": (
                "from models import tables\n"
                "from ..channels import sms\n"
                "\n"
                "def later() -> None:\n"
                "    from sqlmodel import select\n"
            ),
        },
    )
    found = import_graph.layer_violations(tmp_path)
    assert [line.split(" — ")[0] for line in found] == [
        "bot/dialogue/flow.py:1: bot.dialogue.flow imports models.tables",
        "bot/dialogue/flow.py:2: bot.dialogue.flow imports bot.channels.sms",
        "bot/dialogue/flow.py:5: bot.dialogue.flow imports sqlmodel",
    ]


def test_layer_check_allows_imports_down_the_layers(tmp_path: Path) -> None:
    """Downward imports, and the shell importing everything, are not reported."""
    _tree(
        tmp_path,
        {
            "models/tables.py": "import sqlmodel\n",
            "scheduling/walks/signups.py": "from models import tables\nimport sqlalchemy\n",
            "evaluation/statistics.py": "from scheduling.walks import signups\n",
            "bot/i18n.py": "",
            "bot/dialogue/engine.py": "from scheduling.walks import signups\nimport bot.i18n\n",
            "bot/channels/sms.py": "from bot.dialogue import engine\nimport models.db\n",
            "bot/runtime.py": "import bot.channels.sms, evaluation.statistics, fakes.twilio\n",
            "bot/cli_admin.py": "from models import tables\n",
            "fakes/twilio.py": "import starlette\n",
            "bench/sms.py": "import fakes.twilio\nimport bot.runtime\n",
        },
    )
    assert import_graph.layer_violations(tmp_path) == []


def test_cycle_check_catches_a_cycle_through_three_modules(tmp_path: Path) -> None:
    """a -> b -> c -> a is one cycle, reported with the imports that close it; `from pkg import
    module` and an import inside a function count."""
    _tree(
        tmp_path,
        {
            "scheduling/walks/a.py": "from scheduling.walks import b\n",
            "scheduling/walks/b.py": "import os\nimport scheduling.people.c\n",
            "scheduling/people/c.py": "def f() -> None:\n    from scheduling.walks.a import x\n",
            "scheduling/people/d.py": "from scheduling.walks import a, b\n",
        },
    )
    found = import_graph.import_cycles(tmp_path)
    assert len(found) == 1
    first, *edges = found[0].splitlines()
    modules = "scheduling.people.c, scheduling.walks.a, scheduling.walks.b"
    assert first.startswith(f"import cycle between {modules} — ")
    assert edges == [
        "    scheduling/people/c.py:2: scheduling.people.c imports scheduling.walks.a",
        "    scheduling/walks/a.py:1: scheduling.walks.a imports scheduling.walks.b",
        "    scheduling/walks/b.py:2: scheduling.walks.b imports scheduling.people.c",
    ]


def test_cycle_check_sees_every_package_and_no_cycle_in_a_diamond(tmp_path: Path) -> None:
    """Cycles are found in each package of the graph (and across them); a diamond is no cycle."""
    _tree(
        tmp_path,
        {
            "models/top.py": "import models.left, models.right\n",
            "models/left.py": "import models.bottom\n",
            "models/right.py": "from models import bottom\n",
            "models/bottom.py": "",
        },
    )
    assert import_graph.import_cycles(tmp_path) == []
    for package in import_graph.GRAPH_ROOTS:
        root = tmp_path / f"only-{package}"
        _tree(
            root,
            {
                f"{package}/one.py": f"import {package}.two\n",
                f"{package}/two.py": f"from {package} import one\n",
            },
        )
        cycles = import_graph.import_cycles(root)
        assert [c.splitlines()[0].split(" — ")[0] for c in cycles] == [
            f"import cycle between {package}.one, {package}.two"
        ]


def _function(name: str, lines: int) -> str:
    body = "".join("    x = 1\n" for _ in range(lines - 2))
    return f"def {name}() -> int:\n{body}    return 1\n"


def test_shape_check_catches_a_module_over_400_lines(tmp_path: Path) -> None:
    """A module of 401 lines is reported with its file; one of 400 is not."""
    _tree(
        tmp_path,
        {
            "scheduling/big.py": "x = 1\n" * 401,
            "scheduling/fits.py": "x = 1\n" * 400,
            "fakes/huge.py": "x = 1\n" * 2000,
            "models/migrations/versions/0001_all.py": "x = 1\n" * 2000,
        },
    )
    found = code_shape.big_modules(code_shape.measure(tmp_path))
    assert found == ["scheduling/big.py:1: 401 lines, over the 400-line limit for a module"]


def test_shape_check_catches_a_function_over_40_lines(tmp_path: Path) -> None:
    """A function of 41 lines is reported with its file and line; one of 40 is not; methods and
    async functions count."""
    source = (
        '"""A module."""\n\n'
        + _function("fits", 40)
        + "\n\nclass C:\n"
        + "".join(f"    {line}\n" for line in _function("long", 41).splitlines())
        + "\n\nasync "
        + _function("longer", 45)
    )
    _tree(tmp_path, {"bot/dialogue/flow.py": source, "bench/run.py": _function("main", 90)})
    found = code_shape.long_functions(code_shape.measure(tmp_path))
    assert found == [
        "bot/dialogue/flow.py:89: longer() is 45 lines, over the 40-line limit for a function",
        "bot/dialogue/flow.py:46: long() is 41 lines, over the 40-line limit for a function",
    ]


def test_shape_check_catches_a_median_module_over_90_lines(tmp_path: Path) -> None:
    """A median module of 91 lines is reported; a median of 50.5 is not."""
    files = {f"evaluation/m{i}.py": "x = 1\n" * 91 for i in range(3)}
    files |= {f"evaluation/s{i}.py": "x = 1\n" * 10 for i in range(2)}
    _tree(tmp_path, files)
    # the empty __init__.py counts as a module too: six modules, median (10 + 91) / 2
    shape = code_shape.measure(tmp_path)
    assert len(shape.modules) == 6
    assert code_shape.median_too_high(shape) == []
    (tmp_path / "evaluation/m3.py").write_text("x = 1\n" * 91, encoding="utf-8")
    found = code_shape.median_too_high(code_shape.measure(tmp_path))
    assert found == ["the median module is 91 lines over 7 modules, over the limit of 90"]
