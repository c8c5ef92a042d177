"""The load-time graph checks: dependency cycles, and which services fail because others did.

**Cycles.** Every relation is read as "A may start only after B" (an edge A -> B):
`depends-on`, `depends-ms`, `waits-for` and `after` declared on A give A -> B; `before = A`
declared on B gives A -> B too (dinit's dinit-check turns each `before` into a dependency of
the other service the same way). A cycle is a cycle of these edges, and only that. So the
"pseudo-cycle" of dinit's igr test (boot -> middle -> service, with `service before = boot`)
is no cycle: it only adds boot -> service, which agrees with the dependency direction. An
ordering link closes a cycle exactly when it says "start X after Y" where Y already (maybe
through others) has to start after X.

Cycles are found as strongly connected components (Tarjan, iterative: a 10,000-long chain must
not recurse), only among components that hold a newly read service: what was loaded before was
acyclic. Each is reported once, as its shortest cycle through its first new member in load
order, on the line of the setting, in the first service printed, that links it to the next:
`a -> b -> c -> a` is reported on a's line naming b (where a `before` declared by b is the only
choice, on that line).

**Failures.** A service that needs (`depends-on`, `depends-ms`, `waits-for`, their `.d`) one
that failed also fails, with an error on the line naming it; this spreads with a work list.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Mapping

from actors.loader.description import Description, Link
from actors.loader.errors import LoadError
from actors.loader.spec import DepKind, ServiceSpec

Graph = dict[str, list[tuple[str, Link]]]  # service -> [(a service it starts after, the link)]


def ordering_graph(new: Mapping[str, Description], old: Mapping[str, ServiceSpec]) -> Graph:
    """The "starts after" edges among the services of `new` (read now) and `old` (loaded)."""
    names = set(new) | set(old)
    graph: Graph = {name: [] for name in names}
    for link, owner in _all_links(new, old):
        if link.name not in names:
            continue  # ordering with a service not loaded (yet), or a dependency not found
        if link.kind is DepKind.BEFORE:
            graph[link.name].append((owner, link))
        else:
            graph[owner].append((link.name, link))
    return graph


def _all_links(new: Mapping[str, Description], old: Mapping[str, ServiceSpec]
               ) -> Iterable[tuple[Link, str]]:
    for name, description in new.items():
        for link in description.links:
            yield link, name
    for name, spec in old.items():
        path = spec.source.path if spec.source else name
        for kind, other in spec.dependencies():
            yield Link(kind, other, path, None, kind.value), name


def cyclic_components(graph: Graph, starts: Iterable[str]) -> list[list[str]]:
    """The strongly connected components reachable from `starts` that contain a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for start in starts:
        if start in index:
            continue
        visit(start)
        work = [(start, iter(graph[start]))]
        while work:
            node, edges = work[-1]
            for target, _ in edges:
                if target not in index:
                    visit(target)
                    work.append((target, iter(graph[target])))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = _pop_component(stack, on_stack, node)
                    if len(component) > 1 or any(t == node for t, _ in graph[node]):
                        found.append(component)
    return found


def _pop_component(stack: list[str], on_stack: set[str], root: str) -> list[str]:
    component = []
    while True:
        node = stack.pop()
        on_stack.discard(node)
        component.append(node)
        if node == root:
            return component


def shortest_cycle(graph: Graph, component: set[str], start: str) -> list[tuple[str, Link]]:
    """The shortest cycle from `start` back to it inside `component`: [(node, its link)...]."""
    came_from: dict[str, tuple[str, Link]] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target, link in graph[node]:
            if target not in component:
                continue
            if target == start:
                path = [(node, link)]
                while node != start:
                    node, link = came_from[node]
                    path.append((node, link))
                return path[::-1]
            if target not in came_from:
                came_from[target] = (node, link)
                queue.append(target)
    raise AssertionError(f"{start} is in a cyclic component but on no cycle")  # impossible


def find_cycles(new: Mapping[str, Description], old: Mapping[str, ServiceSpec],
                order: list[str]) -> list[tuple[list[str], LoadError]]:
    """Each cycle involving a service of `new`: (its members read now, the error to report).

    `order` is the load-begin order of `new`; the report goes to the first member in it.
    """
    graph = ordering_graph(new, old)
    position = {name: i for i, name in enumerate(order)}
    cycles = []
    for component in cyclic_components(graph, [n for n in order if n in new]):
        members = sorted((n for n in component if n in new), key=position.__getitem__)
        path = shortest_cycle(graph, set(component), members[0])
        # Start the report at a link declared by its own source where there is one (a
        # `before` is declared by the other end), so the line shown is in the first service.
        first = next((i for i, (node, link) in enumerate(path)
                      if node in new and link.kind is not DepKind.BEFORE), 0)
        path = path[first:] + path[:first]
        text = " -> ".join([node for node, _ in path] + [path[0][0]])
        cycles.append((members, path[0][1].error(f"dependency cycle: {text}",
                                                 service=path[0][0])))
    return cycles


def spread_failures(failed: set[str], needs: Mapping[str, list[Link]],
                    together: Mapping[str, int], order: list[str]) -> list[LoadError]:
    """Fail every service that needs a failed one (updating `failed`); the errors, each on the
    line that names the failed service, in `order` (load-begin order). Members of one cycle (same `together` number) do not
    blame each other: the cycle error already names them."""
    dependents: dict[str, list[tuple[str, Link]]] = {}
    for name, links in needs.items():
        for link in links:
            dependents.setdefault(link.name, []).append((name, link))
    errors: list[LoadError] = []
    queue = deque(name for name in order if name in failed)
    while queue:
        gone = queue.popleft()
        for dependent, link in dependents.get(gone, ()):
            cycle = together.get(dependent)
            if cycle is not None and cycle == together.get(gone):
                continue
            errors.append(link.error(f"service '{gone}' could not be loaded", service=dependent))
            if dependent not in failed:
                failed.add(dependent)
                queue.append(dependent)
    return errors
