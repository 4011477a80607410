"""The pure dependency-graph algorithms: cycle check on insert, impact closures, layering."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.catalog import graph

NODES = st.integers(min_value=1, max_value=12)
CANDIDATES = st.lists(st.tuples(NODES, NODES), max_size=60)


def build(candidates: list[tuple[int, int]]) -> tuple[list[graph.Edge], list[list[int]]]:
    """Insert edges the way the service does; returns (accepted edges, refused cycles)."""
    accepted: list[graph.Edge] = []
    refused: list[list[int]] = []
    for a, b in candidates:
        if (a, b) in accepted:
            continue
        cycle = graph.cycle_if_added(accepted, a, b)
        if cycle is None:
            accepted.append((a, b))
        else:
            refused.append(cycle)
    return accepted, refused


def reaches(edges: list[graph.Edge], start: int, goal: int) -> bool:
    """A deliberately naive reachability (fixpoint), independent of the module under test."""
    reached = {start}
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if a in reached and b not in reached:
                reached.add(b)
                changed = True
    return goal in reached and start != goal


@settings(max_examples=300)
@given(CANDIDATES)
def test_no_cycle_is_ever_accepted(candidates: list[tuple[int, int]]) -> None:
    accepted, _ = build(candidates)
    assert graph.is_acyclic(accepted)
    assert not any(reaches(accepted, b, a) for a, b in accepted)


@settings(max_examples=300)
@given(CANDIDATES)
def test_a_refused_edge_names_a_real_cycle(candidates: list[tuple[int, int]]) -> None:
    accepted: list[graph.Edge] = []
    for a, b in candidates:
        cycle = graph.cycle_if_added(accepted, a, b)
        if cycle is None:
            if (a, b) not in accepted:
                accepted.append((a, b))
            continue
        # A closed walk: starts and ends at a, its first step is the new edge, every other
        # step is an existing edge, and no node repeats except the closing one.
        assert cycle[0] == cycle[-1] == a
        assert cycle[1] == b
        assert all(step in accepted for step in itertools.pairwise(cycle[1:]))
        assert len(set(cycle[:-1])) == len(cycle) - 1


@settings(max_examples=300)
@given(CANDIDATES, st.none() | st.integers(min_value=1, max_value=4))
def test_impact_sets_are_consistent(
    candidates: list[tuple[int, int]], max_depth: int | None
) -> None:
    accepted, _ = build(candidates)
    nodes = range(1, 13)
    up = {n: graph.upstream(accepted, n, max_depth=max_depth) for n in nodes}
    down = {n: graph.downstream(accepted, n, max_depth=max_depth) for n in nodes}
    for x in nodes:
        for y in nodes:
            # X is downstream of Y exactly when Y is upstream of X, at the same depth.
            assert (x in down[y]) == (y in up[x])
            if x in down[y]:
                assert down[y][x] == up[x][y]
        if max_depth is None:
            assert set(up[x]) == {y for y in nodes if reaches(accepted, x, y)}
        assert x not in up[x]
        assert x not in down[x]
        assert {y for y, d in up[x].items() if d == 1} == {b for a, b in accepted if a == x}
        assert all(1 <= d <= (max_depth or 12) for d in up[x].values())


@settings(max_examples=200)
@given(CANDIDATES)
def test_depth_is_the_shortest_path(candidates: list[tuple[int, int]]) -> None:
    accepted, _ = build(candidates)
    for x in range(1, 13):
        full = graph.upstream(accepted, x)
        for y, depth in full.items():
            # Every node at depth d > 1 has a direct dependency at depth d - 1 leading to it.
            if depth > 1:
                assert any(full.get(a) == depth - 1 for a, b in accepted if b == y)
            limited = graph.upstream(accepted, x, max_depth=depth)
            assert limited[y] == depth
            if depth > 1:
                assert y not in graph.upstream(accepted, x, max_depth=depth - 1)


@settings(max_examples=300)
@given(CANDIDATES)
def test_layers_put_every_dependency_below_its_dependent(
    candidates: list[tuple[int, int]],
) -> None:
    accepted, _ = build(candidates)
    nodes = {n for e in accepted for n in e}
    layering = graph.layers(nodes, accepted)
    level = {n: i for i, layer in enumerate(layering) for n in layer}
    assert sorted(level) == sorted(nodes)
    assert all(level[a] > level[b] for a, b in accepted)
    assert all(layer == sorted(layer) and layer for layer in layering)
    # Longest-path layering: a node sits directly above its highest dependency.
    for n in nodes:
        deps = [level[b] for a, b in accepted if a == n]
        assert level[n] == (max(deps) + 1 if deps else 0)


def test_the_demo_chain() -> None:
    edges = [(1, 2), (2, 3), (4, 2)]  # checkout→payments-api→postgres; gateway→payments-api
    assert graph.upstream(edges, 1) == {2: 1, 3: 2}
    assert graph.downstream(edges, 3) == {2: 1, 1: 2, 4: 2}
    assert graph.downstream(edges, 3, max_depth=1) == {2: 1}
    assert graph.cycle_if_added(edges, 3, 1) == [3, 1, 2, 3]
    assert graph.cycle_if_added(edges, 3, 4) == [3, 4, 2, 3]
    assert graph.cycle_if_added(edges, 1, 3) is None
    assert graph.cycle_if_added(edges, 5, 5) == [5, 5]
    assert graph.layers({1, 2, 3, 4}, edges) == [[3], [2], [1, 4]]
    assert graph.layers({1, 3}, edges) == [[1, 3]]  # edges outside the node set do not count
    assert graph.layers(set(), edges) == []


def test_layers_refuse_a_cycle() -> None:
    assert not graph.is_acyclic([(1, 2), (2, 3), (3, 1)])
    with pytest.raises(ValueError, match="cycle"):
        graph.layers({1, 2, 3, 4}, [(1, 2), (2, 3), (3, 2), (4, 1)])


def test_shortest_path() -> None:
    adj = graph.adjacency([(1, 2), (2, 3), (1, 3), (3, 4)])
    assert graph.shortest_path(adj, 1, 4) == [1, 3, 4]
    assert graph.shortest_path(adj, 4, 1) is None
    assert graph.shortest_path(adj, 2, 2) == [2]
