"""The import rules of docs/architecture.md, checked over every module of the project.

Each package is a layer; a module may import its own package and the layers listed for
it, nothing above. Imports inside functions count too: a lazy import is still a
dependency. The module graph has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("infra", "components", "functions", "policies", "resolver", "db", "reference_app")

# Layer -> the layers it may import (besides itself). Listed from the top down.
RULES: dict[str, set[str]] = {
    "infra.cli": {"infra.report", "policies", "infra.flows", "infra.local", "infra.ops", "infra.engine",
                  "infra.config", "infra.domain", "resolver"},
    "infra.local": {"reference_app", "infra.ops", "infra.config", "infra.domain", "resolver", "db"},
    "reference_app": {"infra.ops", "infra.domain", "resolver"},
    "infra.report": {"policies", "infra.flows", "infra.engine", "infra.config", "infra.domain", "resolver"},
    "policies": {"infra.flows", "infra.engine", "infra.config", "infra.domain"},
    "infra.flows": {"infra.engine", "infra.domain"},
    "functions": {"infra.ops", "infra.domain", "resolver"},
    "infra.ops": {"infra.domain", "resolver"},
    "infra.engine": {"infra.program", "infra.config", "infra.domain"},
    "infra.program": {"infra.tiers", "components", "infra.config", "infra.domain", "infra.runtime"},
    "infra.tiers": {"components", "infra.config", "infra.domain", "infra.runtime", "resolver"},
    "infra.runtime": set(),
    "components": {"infra.domain", "resolver"},
    "infra.config": {"infra.domain"},
    "infra.domain": {"resolver"},
    "resolver": set(),
    "db": set(),
}
# Third-party packages a layer must not touch.
FORBIDDEN_THIRD_PARTY: dict[str, tuple[str, ...]] = {
    "infra.domain": ("pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3", "botocore"),
    "resolver": ("pulumi", "pydantic", "boto3", "botocore", "yaml"),
    "components": ("boto3", "botocore"),
    "infra.config": ("pulumi", "pulumi_aws", "boto3", "botocore"),
    "infra.ops": ("pulumi_aws", "pulumi_kubernetes"),
    "infra.local": ("pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3", "botocore"),
    "reference_app": ("pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3", "botocore"),
    "infra.flows": ("pulumi_aws", "pulumi_kubernetes", "boto3", "botocore"),
}


def layer_of(module: str) -> str:
    """The layer a module belongs to: the longest rule name that prefixes it."""
    if module in ("infra.program", "infra.__main__"):
        return "infra.program"
    best = max((name for name in RULES if module == name or module.startswith(name + ".")), key=len, default="")
    if not best:
        raise AssertionError(f"{module} belongs to no layer of docs/architecture.md; add it to the rules")
    return best


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    # `infra/__init__.py` only names the package (a test below holds it to that).
    del found["infra"]
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Ids of import nodes under `if TYPE_CHECKING:`: annotations only, never run."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            found.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return found


def imports(path: Path, module: str, *, runtime_only: bool = False) -> set[str]:
    """Every module `path` imports, absolute, anywhere in the file (with `runtime_only`,
    leaving out imports made for type checkers alone)."""
    out: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_only(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & MODULE_NAMES
            # `from package import module` needs the module; anything else needs the package.
            out.update(submodules if len(submodules) == len(node.names) else {base, *submodules})
    return out


MODULES = modules()
MODULE_NAMES = frozenset(MODULES)


def project_imports(module: str, *, runtime_only: bool = False) -> set[str]:
    return {name for name in imports(MODULES[module], module, runtime_only=runtime_only)
            if name in MODULES and name != module}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_its_own_layer_and_the_layers_below(module: str) -> None:
    layer = layer_of(module)
    allowed = RULES[layer] | {layer}
    wrong = sorted(name for name in project_imports(module) if layer_of(name) not in allowed)
    assert not wrong, f"{module} ({layer}) imports {wrong}; {layer} may import only {sorted(allowed)}"
    banned = FORBIDDEN_THIRD_PARTY.get(layer, ())
    third = sorted(name for name in imports(MODULES[module], module) if name.split(".")[0] in banned)
    assert not third, f"{module} ({layer}) imports {third}, which this layer must not touch"


def test_the_rules_have_no_cycle_between_layers() -> None:
    seen: dict[str, int] = {}

    def visit(layer: str, path: tuple[str, ...]) -> None:
        assert layer not in path, f"the layer rules form a cycle: {' -> '.join((*path, layer))}"
        for below in RULES[layer]:
            visit(below, (*path, layer))
        seen[layer] = 1

    for layer in RULES:
        visit(layer, ())


def test_no_module_import_cycle() -> None:
    graph = {module: project_imports(module, runtime_only=True) for module in MODULES}
    # A package's __init__ is imported with any of its modules; a module importing its own
    # package's __init__ is not a cycle of concern unless __init__ imports it back.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for name in sorted(graph[module]):
            if state.get(name) == 1:
                cycle = stack[stack.index(name):] + [name]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if name not in state:
                visit(name)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_a_planted_upward_import_is_caught(tmp_path: Path) -> None:
    # The checker itself: a component importing operator code is named.
    planted = tmp_path / "planted.py"
    planted.write_text("from infra.ops.failover import Controller\n")
    names = {n for n in imports(planted, "components.planted") if n in MODULES}
    assert "infra.ops.failover" in names
    assert layer_of("infra.ops.failover") not in RULES["components"]


def test_the_root_package_only_names_itself() -> None:
    tree = ast.parse((ROOT / "infra" / "__init__.py").read_text())
    assert all(isinstance(node, ast.Expr) for node in tree.body), "infra/__init__.py must hold a docstring only"


def test_every_layer_has_modules() -> None:
    layers = {layer_of(module) for module in MODULES}
    assert layers == set(RULES), f"rules without modules: {sorted(set(RULES) - layers)}"
