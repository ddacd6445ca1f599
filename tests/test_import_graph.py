"""The package imports one way: no cycles between any two modules, not even through imports
inside functions, and ``shapecalc.model`` (files and shapes) never imports ``shapecalc.render``.

Imports under ``if TYPE_CHECKING:`` are left out: they never run. The layers themselves are
import-linter's contracts in pyproject.toml (``lint-imports``, run by CI).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "shapecalc"
SCOPE = ("shapecalc",)
LEFT_OUT: set[str] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _type_checking_only(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(tree: ast.AST) -> set[str]:
    """Every shapecalc module ``tree`` imports, at any depth (functions included)."""
    found: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
        found |= _imports(node)
    return {name for name in found if name in MODULES}


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        if name.startswith(SCOPE) and name not in LEFT_OUT:
            graph[name] = {
                target
                for target in _imports(ast.parse(path.read_text(encoding="utf-8")))
                if target.startswith(SCOPE) and target not in LEFT_OUT and target != name
            }
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``graph``, or ``None``."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = "open"
        path.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        state[name] = "done"
        path.pop()
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return None


def test_the_package_imports_without_cycles():
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or ())


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_model_package_does_not_import_the_renderers():
    graph = _graph()
    upward = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("shapecalc.model")
        for target in targets
        if target.startswith("shapecalc.render")
    }
    assert not upward
