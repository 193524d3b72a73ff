"""The plan of the code holds: packages by concept, imports flowing one way, no cycle.

Every ``import`` in src/promoctl is read (module level, inside functions, and under
TYPE_CHECKING alike: each is a dependency someone can trip on), and each package may
import only the packages below it. README's Development section draws the same plan.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "promoctl"

# Each package, and the packages it may import (besides itself and the top-level
# ``promoctl`` package, which holds only the version).
BELOW: dict[str, set[str]] = {
    "base": set(),
    "store": {"base"},
    "records": {"base", "store"},
    "engine": {"base", "records"},
    "interop": {"base", "records", "engine"},
    "decisions": {"base", "records", "engine"},
    "history": {"base", "records", "engine", "decisions"},
    "reports": {"base", "records", "engine", "decisions", "history"},
    "cli": {"base", "store", "records", "engine", "interop", "decisions", "history",
            "reports"},
}
# The store's one module the domain may use: computed results, kept by the content key
# its caller makes. Records themselves reach the store only through ``records``.
STORE_INTERFACE = "promoctl.store.results"
MAY_USE_RESULTS = {"engine", "reports"}
# The entry points above everything.
TOP = {"promoctl", "promoctl.__main__", "promoctl.launch"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The promoctl modules ``name`` imports (a name imported from a package that is a
    module of its own counts as that module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                child = f"{module}.{alias.name}"
                out.add(child if child in MODULES else module)
    return {m for m in out if m == "promoctl" or m.startswith("promoctl.")}


GRAPH = {name: _imports(name, path) - {name} for name, path in MODULES.items()}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in BELOW else None


def test_every_module_is_in_a_package_of_the_plan() -> None:
    loose = sorted(m for m in MODULES if m not in TOP and _package(m) is None)
    assert loose == [], "modules outside the packages the plan names"
    assert set(BELOW) == {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}


@pytest.mark.parametrize("package", sorted(BELOW))
def test_each_package_says_what_it_holds_and_may_import(package: str) -> None:
    doc = ast.get_docstring(ast.parse((SRC / package / "__init__.py").read_text()))
    assert doc and "May import" in doc


def _against(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, imported in sorted(graph.items()):
        here = _package(module)
        if here is None:
            continue  # an entry point: may import anything
        for target in sorted(imported):
            there = _package(target)
            if target == "promoctl" or there == here:
                continue
            if there is None:
                found.append(f"{module} imports the entry point {target}")
            elif there not in BELOW[here] and not (
                    target == STORE_INTERFACE and here in MAY_USE_RESULTS):
                found.append(f"{module} ({here}) imports {target} ({there})")
    return found


def test_imports_flow_one_way() -> None:
    assert _against(GRAPH) == []


def test_the_top_package_imports_nothing_of_promoctl() -> None:
    """Every module may import ``promoctl`` (for its version): so it must import
    nothing itself, or the flow would have a way round."""
    assert GRAPH["promoctl"] == set()


def test_an_import_against_the_flow_is_found() -> None:
    wrong = {"promoctl.records.loader": {"promoctl.engine.evaluate"},
             "promoctl.engine.evaluate": {"promoctl.store.cache"},
             "promoctl.reports.report": {"promoctl.store.results", "promoctl.cli.app"},
             "promoctl.base.errors": {"promoctl.launch"}}
    assert _against(wrong) == [
        "promoctl.base.errors imports the entry point promoctl.launch",
        "promoctl.engine.evaluate (engine) imports promoctl.store.cache (store)",
        "promoctl.records.loader (records) imports promoctl.engine.evaluate (engine)",
        "promoctl.reports.report (reports) imports promoctl.cli.app (cli)"]


def test_no_module_imports_itself_back() -> None:
    """No cycle between modules, even within a package: each can be read (and tested)
    after the ones it builds on."""
    order: dict[str, int] = {}
    state: dict[str, str] = {}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"
        order[module] = len(order)

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_check_sees_what_it_guards() -> None:
    """The parser finds function-level imports, and the plan forbids what it should."""
    assert "promoctl.records.reading" in GRAPH["promoctl.records.loader"] or \
        "promoctl.records.loader" in GRAPH["promoctl.records.reading"]
    assert "promoctl.cli.output" in GRAPH["promoctl.cli.commands"]  # inside a function
    assert "engine" not in BELOW["records"] and "cli" not in BELOW["reports"]


def test_no_module_is_much_longer_than_a_sitting() -> None:
    long = {m: n for m, p in MODULES.items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 520}
    assert long == {}
