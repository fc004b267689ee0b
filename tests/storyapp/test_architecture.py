"""The shape of the code: small modules, one-way imports between modules and between apps.

Read statically (ast), so the rules cover imports inside functions too: a cycle hidden in a
function body is still a cycle.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("storyapp", "curation", "generation", "training")
MAX_LINES = 400
# app -> apps it must never import
FORBIDDEN = {"curation": {"generation", "training"}, "generation": {"training"}}


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imports_of(name: str, path: Path, modules: dict) -> set[str]:
    """Project modules that ``name`` imports (at any depth of its code)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from pkg import mod" imports pkg.mod when that is a module.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_no_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in project_modules().values()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


@pytest.mark.parametrize(("app", "forbidden"), FORBIDDEN.items())
def test_apps_depend_one_way(app, forbidden):
    offending = {
        (name, target)
        for name, targets in graph().items()
        if name.split(".")[0] == app
        for target in targets
        if target.split(".")[0] in forbidden
    }
    assert offending == set()


def test_no_import_cycles_between_modules():
    edges = graph()
    # A package's __init__ is where Python starts; a module importing its own package is not a
    # cycle Python has to resolve, so package -> child edges are left out.
    for name, targets in edges.items():
        edges[name] = {t for t in targets if not name.startswith(t + ".")}
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_rules_see_imports_inside_functions(tmp_path):
    # given a module whose only import of another sits in a function body
    modules = {"curation.a": tmp_path / "a.py", "generation.b": tmp_path / "b.py"}
    modules["curation.a"].write_text("def f():\n    from generation import b\n")
    # then the reader reports it
    assert imports_of("curation.a", modules["curation.a"], modules) == {"generation.b"}
