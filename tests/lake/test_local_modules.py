"""The local backend's modules import one another in one direction: no cycle to hide."""

from __future__ import annotations

import ast
from pathlib import Path

import versioning.lake.local as local

PACKAGE = "versioning.lake.local"


def _imports(module: str) -> set[str]:
    """The modules of the package that ``module`` imports, wherever the import stands."""
    source = (Path(local.__file__).parent / f"{module}.py").read_text()
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            found |= {n.removeprefix(PACKAGE + ".") for n in names if n.startswith(PACKAGE + ".")}
    return found


def test_maintenance_and_backend_share_the_handle_module_and_no_cycle() -> None:
    assert "handle" in _imports("backend") and "handle" in _imports("maintenance")
    assert "maintenance" in _imports("backend")
    assert "backend" not in _imports("maintenance")
    assert not {"backend", "maintenance"} & _imports("handle")


def test_no_module_of_the_package_imports_inside_a_function() -> None:
    for path in Path(local.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            inner = [
                n.module
                for n in ast.walk(function)
                if isinstance(n, ast.ImportFrom) and (n.module or "").startswith(PACKAGE)
            ]
            assert inner == [], f"{path.name}:{function.name} imports {inner}"
