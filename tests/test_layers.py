"""The import graph of kefu/, actions/, rasa_addons/, bench/ and fakes/: no cycles, layers only import downwards."""
from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WALKED = ("kefu", "actions", "rasa_addons", "bench", "fakes")
# Every package of this repository, walked or not: importing one of them is a dependency the rules speak of.
PROJECT = (*WALKED, "tests")

# kefu's layers, lowest first: a module may import its own layer and lower ranks, never a higher rank nor a
# sibling of its own rank. ``kefu/__init__.py`` and ``kefu/__main__.py`` sit above them all.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("kefu.config",),                   # 0 settings, development environment, logging
    ("kefu.core",),                     # 1 messages, keys, conversations, inbox, delivery, customers, tickets
    ("kefu.orders", "kefu.dialogue"),   # 2 order backends; the Rasa client
    ("kefu.handoff",),                  # 3 human handoff: when, takeover state, teams, console events
    ("kefu.channels",),                 # 4 web chat, WeChat, Telegram (linking merges handoffs: above handoff)
    ("kefu.pipeline",),                 # 5 inbox -> Rasa -> replies
    ("kefu.console", "kefu.web", "kefu.commitments"),  # 6 the agents' console; the shop page and widget;
                                                       #   proactive updates and CSAT
    ("kefu.app",),                      # 7 gateway and worker processes
    ("kefu.ops",),                      # 8 stack, processes, model training
    ("kefu.eval",),                     # 9 evaluation and measurement
    ("kefu.cli",),                      # 10 python -m kefu
)
TOP = "kefu"
RANK: dict[str, int] = {layer: rank for rank, layers in enumerate(LAYERS) for layer in layers} | {TOP: len(LAYERS)}


def up_to(highest: str) -> tuple[str, ...]:
    """The kefu layers ranked at or below ``highest``."""
    return tuple(layer for layer, rank in RANK.items() if rank <= RANK[highest] and layer != TOP)


# What each package outside kefu may import of the project besides itself (module-name prefixes).
OUTSIDE: dict[str, tuple[str, ...]] = {
    "actions": ("kefu.config", "kefu.core", "kefu.orders"),  # the action server shares the domain, not the app
    "rasa_addons": (),  # loaded by Rasa in its own Python 3.10 environment, where kefu is not installed
    "bench": ("kefu", "fakes"),
    "fakes": up_to("kefu.ops"),  # stand-ins for outside servers, shared by tests and benches
    TOP: (),  # kefu never imports actions, bench, fakes, rasa_addons or tests (within kefu, LAYERS rule)
}

# module -> imported project module -> where ("path:line" of its first import)
Graph = dict[str, dict[str, str]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def walked_files() -> Iterator[Path]:
    for package in WALKED:
        yield from sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def _imported(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[str, int]]:
    """Every module name an import statement names, anywhere in the file (inside functions and
    ``if TYPE_CHECKING:`` too): ``from a import b`` yields ``a.b``, which _resolve maps to a when b is a name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                yield (f"{base}.{alias.name}" if alias.name != "*" else base), node.lineno


def _resolve(name: str, modules: set[str]) -> str | None:
    """The project module an imported name stands for (its longest known prefix), None outside the project.
    A project name that is not a walked module (``tests.helpers``, a missing module) is kept as it is."""
    parts = name.split(".")
    if parts[0] not in PROJECT:
        return None
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return name


def import_graph() -> Graph:
    files = {module_name(path): path for path in walked_files()}
    modules = set(files)
    graph: Graph = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        edges = graph[module] = {}
        for name, line in sorted(_imported(tree, module, path.name == "__init__.py"), key=lambda i: i[1]):
            target = _resolve(name, modules)
            if target is not None and target != module:
                edges.setdefault(target, f"{path.relative_to(ROOT)}:{line}")
    return graph


def find_cycles(graph: Graph) -> list[list[str]]:
    """One shortest cycle per strongly connected component (Tarjan), each as [a, b, ..., a]."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, {}):
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_shortest_cycle(graph, component) for component in components]


def _shortest_cycle(graph: Graph, component: list[str]) -> list[str]:
    """Breadth-first from the component's first module back to itself, inside the component."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph.get(node, {})):
                if target == start:
                    return paths[node] + [start]
                if target in members and target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def describe(graph: Graph, cycle: list[str]) -> str:
    return " -> ".join(cycle) + "  (" + ", ".join(graph[a][b] for a, b in itertools.pairwise(cycle)) + ")"


def layer_of(module: str) -> str:
    """``kefu.<layer>`` for kefu's modules, ``kefu`` for its top (``kefu``, ``kefu.__main__``)."""
    parts = module.split(".")
    return TOP if len(parts) == 1 or parts[1] == "__main__" else ".".join(parts[:2])


def layer_violations(graph: Graph) -> list[str]:
    """kefu modules importing a higher rank or a sibling of their own rank, or sitting in no layer."""
    found = []
    for module, edges in sorted(graph.items()):
        if module.split(".")[0] != TOP:
            continue
        layer = layer_of(module)
        if layer not in RANK:
            found.append(f"{module}: package {layer} is not in LAYERS")
            continue
        for target, where in sorted(edges.items()):
            other = layer_of(target)
            if target.split(".")[0] != TOP or other == layer or RANK.get(other, -1) < RANK[layer]:
                continue
            kind = "a sibling" if RANK.get(other) == RANK[layer] else "a higher layer"
            found.append(f"{where}: {module} (rank {RANK[layer]}) imports {target}, {kind} "
                         f"(rank {RANK.get(other, '?')})")
    return found


def outside_violations(graph: Graph) -> list[str]:
    """Imports of another project package that OUTSIDE does not allow."""
    found = []
    for module, edges in sorted(graph.items()):
        package = module.split(".")[0]
        for target, where in sorted(edges.items()):
            if target.split(".")[0] == package:
                continue
            if not any(target == allowed or target.startswith(allowed + ".") for allowed in OUTSIDE[package]):
                allowed = f"only {', '.join(OUTSIDE[package])}" if OUTSIDE[package] else "none of them"
                found.append(f"{where}: {module} imports {target} (of the other project packages {package} "
                             f"may import {allowed})")
    return found


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles = [describe(graph, cycle) for cycle in find_cycles(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_kefu_layers_only_import_lower_layers() -> None:
    found = layer_violations(import_graph())
    assert not found, "layer violations:\n" + "\n".join(found)


def test_outside_packages_keep_to_their_imports() -> None:
    found = outside_violations(import_graph())
    assert not found, "outside-package violations:\n" + "\n".join(found)


def test_the_graph_sees_every_kind_of_import() -> None:
    """Imports inside functions and under ``if TYPE_CHECKING:`` are edges; a submodule beats its package."""
    graph = import_graph()
    assert "kefu.cli.main" in graph and "kefu.config.logs" in graph["kefu.cli.main"]
    assert "kefu.ops.run" in graph["kefu.cli.main"]  # imported inside _run
    assert all(target in graph or target.split(".")[0] == "tests" for edges in graph.values() for target in edges)


def test_the_checks_report_a_cycle_and_an_upward_import() -> None:
    """Proof the checks can fail: a synthetic graph with a cycle, an upward import, a sibling import and a
    forbidden outside import."""
    graph: Graph = {
        "kefu.core.a": {"kefu.core.b": "a.py:1", "kefu.app.server": "a.py:2"},
        "kefu.core.b": {"kefu.core.c": "b.py:1"},
        "kefu.core.c": {"kefu.core.a": "c.py:1", "kefu.config.settings": "c.py:2"},
        "kefu.app.server": {"kefu.core.a": "server.py:1"},
        "kefu.web.pages": {"kefu.console.routes": "pages.py:1"},
        "kefu.console.routes": {},
        "kefu.config.settings": {},
        "actions.turn": {"kefu.channels.linking": "turn.py:1", "kefu.core.a": "turn.py:2"},
        "kefu.channels.linking": {},
    }
    assert find_cycles(graph) == [["kefu.app.server", "kefu.core.a", "kefu.app.server"]]
    assert describe(graph, find_cycles(graph)[0]) == \
        "kefu.app.server -> kefu.core.a -> kefu.app.server  (server.py:1, a.py:2)"
    del graph["kefu.app.server"]["kefu.core.a"]
    assert find_cycles(graph) == [["kefu.core.a", "kefu.core.b", "kefu.core.c", "kefu.core.a"]]
    layers = layer_violations(graph)
    assert len(layers) == 2
    assert layers[0].startswith("a.py:2: kefu.core.a (rank 1) imports kefu.app.server, a higher layer")
    assert layers[1].startswith("pages.py:1: kefu.web.pages (rank 6) imports kefu.console.routes, a sibling")
    assert outside_violations(graph) == [("turn.py:1: actions.turn imports kefu.channels.linking "
                                          "(of the other project packages actions may import only kefu.config, kefu.core, kefu.orders)")]
