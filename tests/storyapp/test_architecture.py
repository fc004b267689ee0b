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


# Curation's public surface: the only curation modules generation, training and the benches
# import. Models (for foreign keys and reads), selectors (reads), services (writes), judging
# (the verdict of the gates), releases (formats and the release reader), and two pure helpers:
# text keys and the approval policy.
CURATION_PUBLIC = (
    "curation.models",
    "curation.selectors",
    "curation.services",
    "curation.judging",
    "curation.releases",
    "curation.text",
    "curation.approval",
)
# Calls that write rows: an app makes them on its own models only.
WRITES = {"create", "update", "bulk_create", "bulk_update", "delete", "get_or_create"}
WRITES |= {"update_or_create"}


def _public(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in CURATION_PUBLIC)


def bench_modules() -> dict[str, Path]:
    return {f"bench.{path.stem}": path for path in (ROOT / "bench").glob("*.py")}


def test_outside_curation_only_its_public_surface_is_imported():
    modules = project_modules()
    everything = {**modules, **bench_modules()}
    offending = {
        (name, target)
        for name, path in everything.items()
        if name.split(".")[0] in ("generation", "training", "bench")
        for target in imports_of(name, path, modules)
        if target.split(".")[0] == "curation" and not _public(target)
    }
    assert offending == set()


def foreign_writes(app: str, path: Path) -> set[tuple[str, int, str]]:
    """Write calls (``Model.objects....update()``) on models imported from another app."""
    tree = ast.parse(path.read_text())
    foreign = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
        for alias in node.names
        if node.module.split(".")[0] in APPS
        and node.module.split(".")[0] != app
        and node.module.split(".")[1:2] == ["models"]
    }
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr not in WRITES:
                continue
            root = node.func.value
            while isinstance(root, ast.Attribute | ast.Call | ast.Subscript):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name) and root.id in foreign:
                found.add((root.id, node.lineno, node.func.attr))
    return found


def test_each_app_writes_only_its_own_rows():
    offending = {
        (str(path.relative_to(ROOT)), *write)
        for name, path in project_modules().items()
        for write in foreign_writes(name.split(".")[0], path)
    }
    assert offending == set()


def test_the_write_rule_sees_a_foreign_write(tmp_path):
    module = tmp_path / "runs.py"
    module.write_text(
        "from generation.models import ModelProfile\n"
        "def f(pk):\n"
        "    ModelProfile.objects.filter(pk=pk).update(name='x')\n"
    )
    assert foreign_writes("training", module) == {("ModelProfile", 3, "update")}
    assert foreign_writes("generation", module) == set()


def test_template_blocks_are_closed_by_name():
    bare = sorted(
        str(path.relative_to(ROOT))
        for folder in (*APPS, "templates")
        for path in (ROOT / folder).rglob("*.html")
        if "{% endblock %}" in path.read_text()
    )
    assert bare == []
