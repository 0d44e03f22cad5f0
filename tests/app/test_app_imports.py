"""The app's modules import downward only: nothing imports app.py but the entry point that runs
it, and no two modules of app/ import each other, lazy imports included (helper modules that
took the app and called its private members made a six-module circle)."""

from __future__ import annotations

import ast
from pathlib import Path

import trainsync_tui.app

APP = Path(trainsync_tui.app.__file__).parent
PACKAGE = "trainsync_tui.app"


def module_of(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(APP).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_imports(path: Path, known: set[str]) -> set[str]:
    """The modules of app/ that `path` imports anywhere in it (the longest known name)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    found.discard(module_of(path))
    return found


def graph() -> dict[str, set[str]]:
    paths = sorted(APP.rglob("*.py"))
    known = {module_of(p) for p in paths}
    return {module_of(p): app_imports(p, known) for p in paths}


def test_only_the_entry_point_imports_the_app_module() -> None:
    importers = sorted(m for m, targets in graph().items() if f"{PACKAGE}.app" in targets)
    assert importers == [PACKAGE]  # run_app, in app/__init__.py


def test_no_import_circle_in_the_app() -> None:
    edges = graph()
    edges[PACKAGE] = set()  # the package runs the app; importing a submodule is not using it
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError(" -> ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        for target in sorted(edges.get(module, ())):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(edges):
        visit(module, [])
    assert len(done) == len(edges) > 20
