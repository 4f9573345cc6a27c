"""The module_utils packages import each other without a cycle.

Each concern is a package (gpu, nvidia, vllm, preflight, ...) and the shared helpers are the
top-level modules (versions, numbers, plain, ...), which import no package. A cycle between two
packages (nvidia used preflight's version helpers while preflight's offline rules used nvidia's
repository constants) means neither can be read or tested without the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

UTILS = Path(__file__).resolve().parents[2] / "plugins" / "module_utils"
PREFIX = "ansible_collections.onprem.llm.plugins.module_utils."


def _unit(path):
    """The package a file belongs to, or the top-level module's own name."""
    return path.relative_to(UTILS).parts[0].removesuffix(".py")


def import_graph():
    graph = {}
    for path in UTILS.rglob("*.py"):
        edges = graph.setdefault(_unit(path), set())
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + ["%s.%s" % (node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith(PREFIX) and name != PREFIX.rstrip("."):
                    target = name[len(PREFIX):].split(".")[0]
                    if target != _unit(path):
                        edges.add(target)
    return graph


def find_cycle(graph):
    """One cycle as a list of nodes (first == last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_packages_import_each_other_without_a_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "module_utils import cycle: " + " -> ".join(cycle)


def test_the_shared_helpers_import_no_package():
    graph = import_graph()
    packages = {path.name for path in UTILS.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    for name in ("versions", "numbers", "plain"):
        assert not graph[name] & packages, (name, graph[name])


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_the_imports():
    graph = import_graph()
    assert "gpu" in graph["nvidia"] and "versions" in graph["nvidia"]
    assert "nvidia" in graph["preflight"]
