"""The engine's layers (docs/ARCHITECTURE.md), read from the source: every import in every
module under trainsync_tui/engine, lazy and TYPE_CHECKING ones included, must go down or
sideways within its own package, never up or across; and the engine knows nothing of the
front ends or the terminal."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import trainsync_tui.engine

ENGINE = Path(trainsync_tui.engine.__file__).parent
PREFIX = "trainsync_tui.engine"
PACKAGES = ("actors", "local", "s3", "plan", "transfer", "run")

# The rule of docs/ARCHITECTURE.md: the groups a module of each group may import. "top" is
# the engine's top-level modules (errors, events, cancel, config, hashing, ...) but the facade.
MAY_IMPORT: dict[str, set[str]] = {
    "top": {"top"},
    "actors": {"top", "actors"},
    "local": {"top", "actors", "local"},
    "s3": {"top", "actors", "s3"},
    "plan": {"top", "actors", "plan"},
    "transfer": {"top", "actors", "local", "s3", "transfer"},
    "run": {"top", "actors", "local", "s3", "plan", "transfer", "run"},
    "facade": {"top", "actors", "local", "s3", "plan", "transfer", "run"},
}
# Front ends and the terminal: the engine is called by them, never the other way round.
FORBIDDEN = ("textual", "rich", "trainsync_tui.app", "trainsync_tui.server", "trainsync_tui.cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def group_of(module: str) -> str:
    rest = module.removeprefix(PREFIX).lstrip(".").split(".")
    if rest[0] in PACKAGES:
        return rest[0]
    return "facade" if rest[0] == "facade" else "top"


def imported(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of everything `source` imports, wherever the statement stands."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base == PREFIX:  # `from trainsync_tui.engine import x`: x is the module
                for alias in node.names:
                    yield node.lineno, f"{base}.{alias.name}"
            else:
                yield node.lineno, base


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """One line per import of `module` that breaks the rule, naming the import."""
    found = []
    mine = group_of(module)
    for line, name in sorted(imported(source, module, is_package)):
        where = f"{module}:{line} imports {name}"
        if any(name == f or name.startswith(f"{f}.") for f in FORBIDDEN):
            found.append(f"{where}: the engine knows nothing of the front ends or the terminal")
        elif name.startswith("trainsync_tui.") and not name.startswith(PREFIX):
            found.append(f"{where}: the engine imports only itself from trainsync_tui")
        elif name.startswith(f"{PREFIX}.") and group_of(name) not in MAY_IMPORT[mine]:
            found.append(f"{where}: {mine} may import only {sorted(MAY_IMPORT[mine])}")
    return found


def engine_modules() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def test_every_engine_module_imports_down_or_within_its_package() -> None:
    found = [
        line
        for path in engine_modules()
        for line in violations(
            path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"
        )
    ]
    assert found == []


def test_every_engine_module_belongs_to_a_known_group() -> None:
    """A new package must be added to the rule (and to docs/ARCHITECTURE.md), not slip by as
    part of the top."""
    folders = {p.name for p in ENGINE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(PACKAGES)


def test_each_package_says_what_it_owns_and_exports_nothing() -> None:
    for name in ("", *PACKAGES):
        init = ENGINE / name / "__init__.py"
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{init} has no docstring"
        assert len(tree.body) == 1, f"{init} holds more than its docstring (no re-exports)"


def test_no_import_circle_inside_the_engine() -> None:
    names = {module_name(p): p for p in engine_modules()}
    graph: dict[str, set[str]] = {}
    for module, path in names.items():
        targets = set()
        for _, name in imported(path.read_text(encoding="utf-8"), module, "__init__" in path.name):
            while name and name not in names:
                name = name.rpartition(".")[0]
            if name and name != module and name != PREFIX:
                targets.add(name)
        graph[module] = targets
    # Depth-first search; a module met again while still on the path closes a circle.
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_the_rule_catches_an_upward_a_lazy_and_a_front_end_import() -> None:
    """The checker itself: each of these is named, the allowed one is not."""
    source = (
        "from trainsync_tui.engine.plan.build import Plan\n"  # plan is not below s3
        "from trainsync_tui.engine.errors import ConfigError\n"  # top: allowed
        "def f():\n"
        "    from trainsync_tui.engine.run.execute import Executor\n"  # lazy, and upward
        "    import textual.app\n"
        "from trainsync_tui.engine import facade\n"
    )
    found = violations(source, "trainsync_tui.engine.s3.lease")
    assert [line.split(" imports ")[1].split(":")[0] for line in found] == [
        "trainsync_tui.engine.plan.build",
        "trainsync_tui.engine.run.execute",
        "textual.app",
        "trainsync_tui.engine.facade",
    ]
    assert found[0].startswith("trainsync_tui.engine.s3.lease:1 imports")
