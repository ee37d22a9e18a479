"""The layers keep their promises (docs/architecture.md, "Layers"), read from the imports of every module."""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "customer360"
# The domain's short list of pure, I/O-free libraries (docs/architecture.md), by import name.
PURE_LIBRARIES = frozenset({"phonenumbers", "stdnum", "email_validator", "pycountry", "unidecode", "rapidfuzz"})
STANDARD_LIBRARY = frozenset(sys.stdlib_module_names) | {"__future__"}


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
            base = ".".join([*anchor, node.module] if node.module else anchor)
        else:
            base = node.module or ""
        yield base
        # ``from package import module`` imports the module.
        yield from (f"{base}.{alias.name}" for alias in node.names)


@functools.cache
def imports() -> dict[str, frozenset[str]]:
    """Every module of the package and everything it imports (at any depth of its code)."""
    found = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found[module] = frozenset(name for node in ast.walk(tree) for name in _imported(node, module, is_package))
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def _modules_of(package: str) -> dict[str, frozenset[str]]:
    return {module: names for module, names in imports().items() if _within(module, package)}


def _offending(package: str, allowed: Callable[[str], bool]) -> dict[str, list[str]]:
    """Modules of ``package`` with the imports ``allowed`` refuses."""
    offending = {module: sorted(n for n in names if not allowed(n)) for module, names in _modules_of(package).items()}
    return {module: names for module, names in offending.items() if names}


def _part(module: str) -> str:
    """The part of the code base a module belongs to: an infrastructure package (or module), or a layer."""
    parts = module.split(".")
    return ".".join(parts[:3]) if parts[1:2] == ["infrastructure"] and len(parts) > 2 else ".".join(parts[:2])


def _reachable(start: str) -> set[str]:
    """Every module of ours that ``start`` imports, directly or through others."""
    known, seen, todo = imports(), set(), [start]
    while todo:
        for name in known.get(todo.pop(), ()):
            target = name if name in known else name.rpartition(".")[0]
            if target in known and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each part that is on a cycle (depth-first, in name order)."""
    cycles: list[list[str]] = []
    done: set[str] = set()
    for start in sorted(graph):
        path, stack = [start], [iter(sorted(graph[start]))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                path.pop()
            elif following == start:
                if not done & set(path):
                    cycles.append([*path, start])
                    done |= set(path)
            elif following not in path and following in graph:
                path.append(following)
                stack.append(iter(sorted(graph[following])))
    return cycles


class TestLayers:
    def test_the_domain_imports_the_standard_library_a_few_pure_libraries_and_itself(self) -> None:
        """Domain modules import nothing outside the standard library, the listed pure libraries and the domain."""

        def allowed(name: str) -> bool:
            top = name.partition(".")[0]
            return top in STANDARD_LIBRARY | PURE_LIBRARIES or _within(name, f"{ROOT}.domain")

        assert _offending(f"{ROOT}.domain", allowed) == {}

    def test_the_application_imports_the_standard_library_the_domain_and_itself(self) -> None:
        """Application modules import no infrastructure, no settings, no wiring, no third-party library."""

        def allowed(name: str) -> bool:
            return name.partition(".")[0] in STANDARD_LIBRARY or any(
                _within(name, f"{ROOT}.{layer}") for layer in ("domain", "application")
            )

        assert _offending(f"{ROOT}.application", allowed) == {}

    def test_rest_reaches_neither_persistence_nor_messaging(self) -> None:
        """No module of the HTTP edge imports persistence or messaging, directly or through another module."""
        forbidden = (f"{ROOT}.infrastructure.persistence", f"{ROOT}.infrastructure.messaging")
        reached = {
            module: sorted(m for m in _reachable(module) if any(_within(m, f) for f in forbidden))
            for module in _modules_of(f"{ROOT}.infrastructure.rest")
        }
        assert {module: found for module, found in reached.items() if found} == {}

    def test_no_infrastructure_module_imports_the_composition_root(self) -> None:
        """bootstrap.py builds and injects; nothing it builds imports it (nor the CLI above it)."""
        wiring = (f"{ROOT}.bootstrap", f"{ROOT}.cli")
        assert _offending(f"{ROOT}.infrastructure", lambda n: not any(_within(n, w) for w in wiring)) == {}

    def test_the_infrastructure_packages_import_each_other_without_cycles(self) -> None:
        """Persistence, messaging, rest, consumers and the other parts depend on each other one way only."""
        graph: dict[str, set[str]] = {}
        for module, names in _modules_of(f"{ROOT}.infrastructure").items():
            parts = {_part(n) for n in names if _within(n, f"{ROOT}.infrastructure")}
            graph.setdefault(_part(module), set()).update(parts - {_part(module)})
        assert _cycles(graph) == []
