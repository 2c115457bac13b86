"""The package's layers import one way: no cycle between autograder's subpackages and top modules.

Read from the source with ``ast`` (every import, also those inside functions, which is where a
cycle hides from the interpreter): a cycle means two layers that cannot change or be tested
apart, like grading and the writers were when each imported the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from autograder.checks import KIT_ROOT

PACKAGE = KIT_ROOT / "autograder"


def unit_of(module: str) -> str | None:
    """``autograder.grading.grade`` -> ``grading``; ``autograder.cli`` -> ``cli``; others None."""
    parts = module.split(".")
    if parts[0] != "autograder" or len(parts) < 2:
        return None
    return parts[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(KIT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
    return found


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        unit = unit_of(module_name(path))
        for imported in imports_of(path):
            other = unit_of(imported)
            if unit and other and other != unit:
                edges.setdefault(unit, set()).add(other)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for other in sorted(edges.get(node, ())):
            if state.get(other) == "open":
                found.append(stack[stack.index(other):] + [other])
            elif other not in state:
                visit(other, stack + [other])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_no_import_cycle_between_the_packages_layers():
    edges = graph()
    assert edges.get("grading") and edges.get("cli"), "the import graph came out empty: is the reader broken?"
    found = cycles(edges)
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)


@pytest.mark.parametrize("edges,expected", [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c", "a"]]),
    ({"a": {"b"}, "b": {"c"}}, []),
])
def test_the_cycle_finder_finds_cycles(edges, expected):
    assert cycles(edges) == expected


def test_the_readme_layout_names_every_subpackage():
    readme = (KIT_ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):]
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    missing = [name for name in packages if f"autograder/{name}/" not in layout]
    assert not missing, f"README's layout table does not name: {missing}"
