"""Pure algorithms on the service dependency graph. No database, no clock.

An edge ``(a, b)`` means *a depends on b*: when ``b`` breaks, ``a`` suffers.

* **upstream** of X: what X depends on, transitively (its foundations).
* **downstream** of X: what depends on X, transitively (what breaks when X breaks: the blast
  radius).

Depths are shortest-path lengths (1 = a direct dependency). The graph is kept acyclic by
checking every insert with :func:`cycle_if_added`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

Edge = tuple[int, int]  # (service, depends_on)
Adjacency = dict[int, set[int]]


def adjacency(edges: Iterable[Edge]) -> Adjacency:
    """``service -> {what it depends on}``."""
    result: Adjacency = {}
    for service, depends_on in edges:
        result.setdefault(service, set()).add(depends_on)
    return result


def reverse_adjacency(edges: Iterable[Edge]) -> Adjacency:
    """``service -> {what depends on it}``."""
    result: Adjacency = {}
    for service, depends_on in edges:
        result.setdefault(depends_on, set()).add(service)
    return result


def _bfs(adj: Mapping[int, set[int]], start: int, max_depth: int | None) -> dict[int, int]:
    depths: dict[int, int] = {}
    queue: deque[tuple[int, int]] = deque([(start, 0)])
    seen = {start}
    while queue:
        node, depth = queue.popleft()
        if max_depth is not None and depth >= max_depth:
            continue
        for nxt in sorted(adj.get(node, ())):
            if nxt not in seen:
                seen.add(nxt)
                depths[nxt] = depth + 1
                queue.append((nxt, depth + 1))
    return depths


def upstream(edges: Iterable[Edge], node: int, *, max_depth: int | None = None) -> dict[int, int]:
    """Everything ``node`` depends on, transitively, with its depth (``node`` excluded)."""
    return _bfs(adjacency(edges), node, max_depth)


def downstream(edges: Iterable[Edge], node: int, *, max_depth: int | None = None) -> dict[int, int]:
    """Everything that depends on ``node``, transitively, with its depth (``node`` excluded)."""
    return _bfs(reverse_adjacency(edges), node, max_depth)


def shortest_path(adj: Mapping[int, set[int]], start: int, goal: int) -> list[int] | None:
    """The shortest path ``start → … → goal`` along ``adj``, or None."""
    if start == goal:
        return [start]
    parents: dict[int, int] = {}
    queue: deque[int] = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for nxt in sorted(adj.get(node, ())):
            if nxt in seen:
                continue
            parents[nxt] = node
            if nxt == goal:
                path = [goal]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return path[::-1]
            seen.add(nxt)
            queue.append(nxt)
    return None


def cycle_if_added(edges: Iterable[Edge], service: int, depends_on: int) -> list[int] | None:
    """The cycle that adding ``service → depends_on`` would close, or None if it is safe.

    The cycle is returned as a closed walk starting and ending at ``service``:
    ``[service, depends_on, …, service]``. A self-dependency is ``[service, service]``.
    """
    if service == depends_on:
        return [service, service]
    back = shortest_path(adjacency(edges), depends_on, service)
    return None if back is None else [service, *back]


def is_acyclic(edges: Iterable[Edge]) -> bool:
    """Whether the graph has no directed cycle (Kahn's algorithm)."""
    edge_list = list(edges)
    try:
        layers({n for e in edge_list for n in e}, edge_list)
    except ValueError:
        return False
    return True


def layers(nodes: Iterable[int], edges: Iterable[Edge]) -> list[list[int]]:
    """Longest-path layering for drawing: layer 0 holds the foundations (nodes with no
    dependency among ``nodes``); every edge points from a higher layer to a lower one.

    Only edges between two of ``nodes`` count. Nodes are sorted within a layer.

    Raises:
        ValueError: the edges among ``nodes`` contain a cycle.
    """
    node_set = set(nodes)
    inner = {(a, b) for a, b in edges if a in node_set and b in node_set}
    remaining_deps: dict[int, int] = dict.fromkeys(node_set, 0)
    for a, _b in inner:
        remaining_deps[a] += 1
    dependents = reverse_adjacency(inner)
    level: dict[int, int] = {}
    ready = deque(sorted(n for n, count in remaining_deps.items() if count == 0))
    for n in ready:
        level[n] = 0
    while ready:
        node = ready.popleft()
        for dependent in sorted(dependents.get(node, ())):
            level[dependent] = max(level.get(dependent, 0), level[node] + 1)
            remaining_deps[dependent] -= 1
            if remaining_deps[dependent] == 0:
                ready.append(dependent)
    if len(level) != len(node_set) or any(remaining_deps.values()):
        msg = "the dependency graph has a cycle"
        raise ValueError(msg)
    result: list[list[int]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for node in sorted(level):
        result[level[node]].append(node)
    return result
