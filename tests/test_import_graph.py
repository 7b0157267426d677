"""No package of the repository has an import circle, and no two packages import each other.

Read statically, from the source files (``ast``), never by importing them. Every import
statement counts, the ones deferred into a function too: a deferred import only hides a circle
from the interpreter, not from the reader. Imports under ``if TYPE_CHECKING:`` do not count (they
never run). ``from package import name`` is an import of ``package.name`` when that is a module,
otherwise of ``package`` itself; relative imports are resolved against the importing module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
PACKAGE_SOURCES: dict[str, Path] = {
    "orderhub_common": REPO / "services/common/src/orderhub_common",
    "auth": REPO / "services/auth/src/auth",
    "orders": REPO / "services/orders/src/orders",
    "ingest": REPO / "services/ingest/src/ingest",
    "gateway": REPO / "services/gateway/src/gateway",
    "mock_channels": REPO / "services/mock_channels/src/mock_channels",
    "devstack": REPO / "infra/devstack/src/devstack",
}

Graph = dict[str, set[str]]


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def package(self) -> str:
        """The package relative imports start from: the module itself for an ``__init__``."""
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


def modules_of(package: str, source: Path) -> Iterator[Module]:
    for path in sorted(source.rglob("*.py")):
        parts = [package, *path.relative_to(source).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        yield Module(".".join(parts), path)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node`` that can run, however deeply nested."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from import_nodes(ast.Module(body=child.orelse, type_ignores=[]))
        else:
            yield from import_nodes(child)


def imported_modules(name: str, package: str, source: str, known: set[str]) -> set[str]:
    """The modules of ``known`` that the module ``name`` (in ``package``) imports."""
    named: set[str] = set()
    for node in import_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            named.add(submodule if submodule in known else base)
    ours = {_nearest_known(module, known) for module in named}
    return {module for module in ours if module is not None and module != name}


def _nearest_known(name: str, known: set[str]) -> str | None:
    """``name`` if it is one of ours, else the closest enclosing module that is, else None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def import_graph() -> Graph:
    modules = [m for package, src in PACKAGE_SOURCES.items() for m in modules_of(package, src)]
    known = {module.name for module in modules}
    return {
        module.name: imported_modules(module.name, module.package, module.path.read_text(), known)
        for module in modules
    }


def circles(graph: Graph) -> list[list[str]]:
    """One circle through each group of modules that import each other (Tarjan's components),
    written as the path that closes it: ``[a, b, a]``."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                lowlink[node] = min(lowlink[node], lowlink[target])
            elif target in on_stack:
                lowlink[node] = min(lowlink[node], index[target])
        if lowlink[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_path_around(component, graph) for component in components]


def _path_around(component: list[str], graph: Graph) -> list[str]:
    """The shortest path from the component's first module back to itself, inside it."""
    start, members = component[0], set(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & members):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if target not in previous:
                    previous[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError(f"no circle through {component}")


def package_graph(graph: Graph) -> Graph:
    packages: Graph = {package: set() for package in PACKAGE_SOURCES}
    for module, targets in graph.items():
        source = module.split(".")[0]
        packages[source] |= {target.split(".")[0] for target in targets} - {source}
    return packages


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph()


@pytest.mark.parametrize("package", PACKAGE_SOURCES)
def test_no_package_has_an_import_circle(graph: Graph, package: str) -> None:
    own = {
        module: {target for target in targets if target.split(".")[0] == package}
        for module, targets in graph.items()
        if module.split(".")[0] == package
    }

    found = [" -> ".join(circle) for circle in circles(own)]

    assert found == [], f"{package} has import circles: " + "; ".join(found)


def test_no_two_packages_import_each_other(graph: Graph) -> None:
    found = [" -> ".join(circle) for circle in circles(package_graph(graph))]

    assert found == [], "packages import each other: " + "; ".join(found)


def test_the_walk_sees_deferred_imports_and_resolves_from_imports() -> None:
    # The walk itself, on a module written for the purpose.
    known = {"pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.sub", "pkg.sub.d"}
    source = """
from typing import TYPE_CHECKING
from pkg import b
from . import sub
from .sub.d import thing
if TYPE_CHECKING:
    from pkg import typing_only
def later():
    import pkg.c
"""
    known.add("pkg.typing_only")

    assert imported_modules("pkg.a", "pkg", source, known) == {
        "pkg.b",
        "pkg.sub",
        "pkg.sub.d",
        "pkg.c",
    }
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert circles({"a": {"a"}, "b": set()}) == [["a", "a"]]
