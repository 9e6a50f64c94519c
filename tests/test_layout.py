"""The layout is the architecture: imports run one way through the house.

Every import counts, at the top of a module or inside a function (an import moved into a function
still ties the two modules together; it only hides the circle from Python).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("indexer", "search_api", "services", "lantern", "ui")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the modules of the house it imports (a `from package import module` names the module)."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


GRAPH = _imports(_modules())


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return circles


def _arrows(source: str, target: str) -> list[str]:
    inside = lambda name, package: name == package or name.startswith(package + ".")  # noqa: E731
    return sorted(f"{a} -> {b}" for a, targets in GRAPH.items() if inside(a, source) for b in targets if inside(b, target))


def test_no_module_imports_itself_back_through_others():
    assert _circles(GRAPH) == []


def test_the_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(("source", "target"), [
    ("indexer", "search_api"),  # the indexer never needs the API
    ("indexer", "lantern"),
    ("search_api", "lantern"),
    ("services", "search_api"),
    ("indexer.sources", "indexer.enrich"),  # readers read; enrichment enriches what they read
    ("indexer.enrich", "indexer.sources"),
])
def test_imports_run_one_way(source, target):
    assert _arrows(source, target) == []


def test_the_graph_sees_function_level_imports():
    """`lantern.cli` imports the pipeline inside its commands only: the graph must still see it."""
    assert "indexer.pipeline" in GRAPH["lantern.cli"]
