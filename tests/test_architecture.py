"""The layering of the README's architecture section, kept true: no upward import, no cycle.

Every import counts, the ones inside functions too (a function-local import only hides a
dependency, it does not remove it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Layers from the bottom up; a package may import its own layer's packages and those below.
LAYERS: dict[str, tuple[str, ...]] = {
    "base": ("core",),
    "storage": ("versioning",),
    "data": ("ingestion", "warehouse"),
    "models": ("training", "registry"),
    "loop": ("experiments", "tuning", "monitoring", "governance"),
    "entry": ("orchestration", "voiceops", "serving"),
}
RANK = {package: rank for rank, packages in enumerate(LAYERS.values()) for package in packages}
#: Folders at the root that are not layered packages (tests, benchmarks, project files).
NOT_LAYERED = {"tests", "bench", "dbt_project", "lakefs", "scripts", "docs", "deploy"}


def project_packages() -> set[str]:
    return {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_LAYERED
    }


def modules() -> dict[str, Path]:
    """Every module of the layered packages, by dotted name."""
    found = {}
    for package in RANK:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts).removesuffix(".__init__")] = path
    return found


def imported_names(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, dotted name)`` of every absolute import in the file, ``from a import b`` as
    both ``a`` and ``a.b`` (``b`` may be a module)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def import_graph() -> dict[str, set[str]]:
    """Module -> project modules it imports (a package's own ``__init__`` excluded)."""
    known = modules()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for _, imported in imported_names(path):
            target = resolve(imported)
            if target and target != name and not name.startswith(target + "."):
                graph[name].add(target)
    return graph


def test_every_package_has_a_layer():
    unplaced = project_packages() - set(RANK)
    assert not unplaced, f"packages missing from LAYERS (and the README's table): {unplaced}"


def test_no_upward_import():
    upward = []
    for name, path in modules().items():
        own = RANK[name.split(".")[0]]
        for line, imported in imported_names(path):
            top = imported.split(".")[0]
            if top in RANK and RANK[top] > own:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not upward, "imports from a higher layer:\n" + "\n".join(sorted(set(upward)))


def test_base_layer_imports_nothing_of_the_project():
    outside = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for name, path in modules().items()
        if name.split(".")[0] == "core"
        for line, imported in imported_names(path)
        if imported.split(".")[0] in RANK and imported.split(".")[0] != "core"
    ]
    assert not outside, outside


def test_packages_of_one_layer_do_not_import_each_other_both_ways():
    edges = {
        (source.split(".")[0], target.split(".")[0])
        for source, targets in import_graph().items()
        for target in targets
        if source.split(".")[0] != target.split(".")[0]
    }
    both_ways = sorted({tuple(sorted(edge)) for edge in edges if edge[::-1] in edges})
    assert not both_ways, f"packages importing each other: {both_ways}"


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one module (each is an import cycle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycle_between_modules():
    assert strongly_connected(import_graph()) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ],
)
def test_cycle_finder_finds_cycles(graph, expected):
    assert strongly_connected(graph) == expected
