"""The designer routes round a key link or route end a bus can only use by reversing, and with
``design.max_key_nodes`` it must cover the anchors' key nodes but not the others.

A route refused by :meth:`shuttle.router.TurnRouter.cycle` for turning back through a short
connector says where (:class:`shuttle.router.ReversalError`); the designer leaves that key link
(or that route end) out and designs again instead of tightening the time cap until nothing fits.
"""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest

from shuttle import design, utrp
from shuttle.config import Scenario
from shuttle.keynet import KeyNetwork
from shuttle.router import ReversalError, TurnRouter, WalkError

# ---------------------------------------------------------------------------------------------
# where the router says the reversal is

# 0.00113 degrees of longitude and 0.0009 of latitude are both ~100 m at 37.55 N
DX, DY = 0.00113, 0.0009


def _divided_road(*, west_block: bool) -> tuple[nx.MultiDiGraph, dict[str, int]]:
    """A divided road east-west: eastbound ``A0..A8`` (y = 0), westbound ``B8..B0`` (y = 20 m),
    junctions every 60 m, median gaps ``A8 -> B8`` and ``B0 -> A0`` at the ends. One end also
    has a one-way block to turn round by three right turns: the west one (``B0 -> D0 -> D1 ->
    B1``, then straight across ``B1 -> A1``) with ``west_block``, else the east one
    (``A8 -> C8 -> C7 -> A7``, then ``A7 -> B7``). The other end can only turn in its gap."""
    G = nx.MultiDiGraph(crs="epsg:4326")

    def node(n: str, x: float, y: float) -> None:
        G.add_node(n, x=126.9 + DX * x / 100.0, y=37.55 + DY * y / 100.0)

    def one_way(u: str, v: str, m: float) -> None:
        G.add_edge(u, v, length=m, travel_time=m / 10.0, highway="secondary")

    for i in range(9):
        node(f"A{i}", 60.0 * i, 0.0)
        node(f"B{i}", 60.0 * i, 20.0)
    for i in range(8):
        one_way(f"A{i}", f"A{i + 1}", 60.0)
        one_way(f"B{i + 1}", f"B{i}", 60.0)
    one_way("A8", "B8", 20.0)
    one_way("B0", "A0", 20.0)
    if west_block:
        node("D0", 0.0, 80.0)
        node("D1", 60.0, 80.0)
        one_way("B0", "D0", 60.0)
        one_way("D0", "D1", 60.0)
        one_way("D1", "B1", 60.0)
        one_way("B1", "A1", 20.0)
    else:
        node("C8", 480.0, -60.0)
        node("C7", 420.0, -60.0)
        one_way("A8", "C8", 60.0)
        one_way("C8", "C7", 60.0)
        one_way("C7", "A7", 60.0)
        one_way("A7", "B7", 20.0)
    G = nx.convert_node_labels_to_integers(G, label_attribute="name", ordering="sorted")
    return G, {d["name"]: n for n, d in G.nodes(data=True)}


def test_reversal_error_names_the_turnaround_it_cannot_avoid() -> None:
    G, ids = _divided_road(west_block=True)  # the east end A8 turns only in its median gap
    router = TurnRouter(G, max_turn_deg=150.0)
    with pytest.raises(ReversalError) as got:
        router.cycle([ids["B0"], ids["A4"], ids["A8"]])
    assert got.value.at == (ids["A8"],)  # the far loop, not a leg or the near end
    G, ids = _divided_road(west_block=False)  # now only the west end B0 must reverse
    with pytest.raises(ReversalError) as got:
        TurnRouter(G, max_turn_deg=150.0).cycle([ids["B0"], ids["A4"], ids["A8"]])
    assert got.value.at == (ids["B0"],)


def test_where_maps_walk_positions_to_legs_and_loops() -> None:
    # route 10 -> 20 -> 30: layers out to 20, to 30, far loop, back to 20, back to 10, near loop;
    # segment i is edges[ends[i - 1]:ends[i]]
    ends = [3, 5, 8, 10, 13, 15]
    where = TurnRouter._where
    assert where([10, 20, 30], ends, 0) == (10, 20)
    assert where([10, 20, 30], ends, 3) == (20, 30)
    assert where([10, 20, 30], ends, 5) == (30,)
    assert where([10, 20, 30], ends, 8) == (30, 20)
    assert where([10, 20, 30], ends, 12) == (20, 10)
    assert where([10, 20, 30], ends, 14) == (10,)


def test_ban_of_key_nodes() -> None:
    kn = _line_network(5)
    # key route 1-2-3 routed on graph nodes 101, 102, 103 (kn.nodes = 100 + k), its far end
    # extended to a terminal at graph node 999
    gnodes = [101, 102, 103, 999]
    assert design._ban_of(kn, (1, 2, 3), gnodes, (102, 103)) == (2, 3)
    assert design._ban_of(kn, (1, 2, 3), gnodes, (103, 102)) == (2, 3)
    assert design._ban_of(kn, (1, 2, 3), gnodes, (999,)) == (3,)  # the terminal's loop
    assert design._ban_of(kn, (1, 2, 3), gnodes, (103, 999)) == (3,)  # the leg to it
    assert design._ban_of(kn, (1, 2, 3), gnodes, (101,)) == (1,)


# ---------------------------------------------------------------------------------------------
# the design loop


def _network(
    n: int, links: dict[tuple[int, int], float], anchors: tuple[int, ...] = ()
) -> KeyNetwork:
    """Key nodes ``0..n-1`` (graph nodes ``100 + k``), two-way ``links`` in minutes (1 km each),
    10 trips a day between every pair."""
    t = np.full((n, n), np.inf)
    for (i, j), m in links.items():
        t[i, j] = t[j, i] = m
    np.fill_diagonal(t, 0.0)
    link = np.isfinite(t) & ~np.eye(n, dtype=bool)
    dem = np.full((n, n), 10.0)
    np.fill_diagonal(dem, 0.0)
    return KeyNetwork(
        nodes=tuple(100 + k for k in range(n)),
        labels=tuple(f"k{k}" for k in range(n)),
        anchors=tuple((k,) if k in anchors else () for k in range(n)),
        zone_key=tuple(range(n)),
        time_s=np.where(link, 60.0 * np.where(link, t, 0.0), 0.0),
        link=link,
        link_m=np.where(link, 1000.0, np.inf),
        travel_min=t,
        demand=dem,
    )


def _line_network(n: int) -> KeyNetwork:
    return _network(n, {(i, i + 1): 2.0 for i in range(n - 1)})


def _ring_network() -> KeyNetwork:
    """Key nodes 0..5 on a ring (2 min a link) with the chord 0-3 (3 min), 500 trips on it."""
    links = {(i, (i + 1) % 6): 2.0 for i in range(6)}
    links[(0, 3)] = 3.0
    kn = _network(6, links)
    dem = np.array(kn.demand)
    dem[0, 3] = dem[3, 0] = 500.0  # the chord is what a designer wants most
    return dataclasses.replace(kn, demand=dem)


def _small(scenario: Scenario, **changes: object) -> Scenario:
    """Two routes, any number of key nodes per route, no km bound."""
    kw: dict[str, object] = {"routes": 2, "min_stops": 2, "iterations": 200, "max_route_km": 100.0}
    kw.update(changes)
    return dataclasses.replace(scenario, design=dataclasses.replace(scenario.design, **kw))


def _record_caps(monkeypatch) -> list[float]:  # noqa: ANN001
    caps: list[float] = []
    solve = utrp.design

    def rec(problem, **kw):  # noqa: ANN001, ANN003, ANN202
        caps.append(float(problem.max_route_min))
        return solve(problem, **kw)

    monkeypatch.setattr(utrp, "design", rec)
    return caps


def test_a_key_link_with_no_reversal_free_walk_is_left_out(monkeypatch, scenario) -> None:  # noqa: ANN001
    kn = _ring_network()
    calls: list[tuple[tuple[int, ...], ...]] = []
    caps = _record_caps(monkeypatch)

    def fake_build(ctx, kn, key_routes, places, scenario, no_end=(), close_keys=()):  # noqa: ANN001, ANN202
        calls.append(tuple(tuple(r) for r in key_routes))
        bans = {
            (min(a, b), max(a, b))
            for r in key_routes
            for a, b in zip(r[:-1], r[1:], strict=True)
            if {a, b} == {0, 3}
        }
        if bans:  # the chord 0-3 only by reversing through a median gap
            return design._Built(routes=(), stops={}, bad=("reversal",), bans=tuple(bans))
        return design._Built(routes=(), stops={}, bad=())

    monkeypatch.setattr(design, "_build_routes", fake_build)
    problem, routes, _ = design._solve(None, kn, (), _small(scenario), "greedy", None)
    # the first design takes the chord (500 trips each way); the second one may not
    assert any({0, 3} in ({a, b} for a, b in zip(r[:-1], r[1:], strict=True)) for r in calls[0])
    assert len(calls) == 2
    assert not np.isfinite(problem.travel_min[0, 3])
    assert not np.isfinite(problem.travel_min[3, 0])
    for r in routes:
        for a, b in zip(r[:-1], r[1:], strict=True):
            assert {a, b} != {0, 3}
    assert len(caps) == 2
    assert caps[0] == caps[1]  # designed again without tightening the cap
    assert not utrp.check_routes(problem, routes)


def test_a_route_end_that_must_reverse_stops_being_a_terminal(monkeypatch, scenario) -> None:  # noqa: ANN001
    kn = _ring_network()
    caps = _record_caps(monkeypatch)

    def fake_build(ctx, kn, key_routes, places, scenario, no_end=(), close_keys=()):  # noqa: ANN001, ANN202
        bans = {(e,) for r in key_routes for e in (r[0], r[-1]) if e in (0, 3)}
        if bans:  # key nodes 0 and 3 have only a median gap to turn in
            return design._Built(routes=(), stops={}, bad=("reversal",), bans=tuple(bans))
        return design._Built(routes=(), stops={}, bad=())

    monkeypatch.setattr(design, "_build_routes", fake_build)
    problem, routes, _ = design._solve(None, kn, (), _small(scenario), "greedy", None)
    assert problem.terminals is not None
    banned = set(np.flatnonzero(~problem.terminals).tolist())
    assert banned
    assert banned <= {0, 3}  # only the ends that failed
    assert all(r[0] not in (0, 3) and r[-1] not in (0, 3) for r in routes)
    assert {0, 3} <= {v for r in routes for v in r}  # still served, inside a route
    assert len(set(caps)) == 1


def test_a_reversal_everywhere_still_fails_with_one_clear_reason(monkeypatch, scenario) -> None:  # noqa: ANN001
    kn = _ring_network()

    def fake_build(ctx, kn, key_routes, places, scenario, no_end=(), close_keys=()):  # noqa: ANN001, ANN202
        ends = tuple(sorted({(e,) for r in key_routes for e in (r[0], r[-1])}))
        return design._Built(routes=(), stops={}, bad=("reversal",), bans=ends)

    monkeypatch.setattr(design, "_build_routes", fake_build)
    with pytest.raises(design._Infeasible):
        design._solve(None, kn, (), _small(scenario), "greedy", None)


# ---------------------------------------------------------------------------------------------
# coverage: anchors hard, the other key nodes an objective


def test_with_max_key_nodes_only_anchors_must_be_covered(monkeypatch, scenario) -> None:  # noqa: ANN001
    # a star: centre 0, leaves 1..4 (2 min each); one route is a simple path, so it covers at
    # most 3 of the 5 nodes (leaf - centre - leaf). Anchors at leaves 1 and 2.
    kn = _network(5, {(0, k): 2.0 for k in range(1, 5)}, anchors=(1, 2))

    def fake_build(ctx, kn, key_routes, places, scenario, no_end=(), close_keys=()):  # noqa: ANN001, ANN202
        return design._Built(routes=(), stops={}, bad=())

    monkeypatch.setattr(design, "_build_routes", fake_build)
    # every key node required (no cap on key nodes): no route set of one route exists
    with pytest.raises(design._Infeasible):
        design._solve(None, kn, (), _small(scenario, routes=1, max_key_nodes=0), "greedy", None)
    # coverage an objective: the route serves both anchors, leaves 3 and 4 are left out
    one = _small(scenario, routes=1, max_key_nodes=60)
    for method in ("greedy", "anneal"):
        problem, routes, _ = design._solve(None, kn, (), one, method, None)
        assert list(np.flatnonzero(problem.must_cover)) == [1, 2]
        assert [sorted(r) for r in routes] == [[0, 1, 2]]
        assert not utrp.check_routes(problem, routes)


# ---------------------------------------------------------------------------------------------
# the UTRP problem itself (the benchmarks keep covering every node)


def _line_problem(n: int, must: np.ndarray | None, max_nodes: int) -> utrp.Problem:
    t = np.full((n, n), np.inf)
    for i in range(n - 1):
        t[i, i + 1] = t[i + 1, i] = 2.0
    dem = np.full((n, n), 10.0)
    dem[n - 1, :] = dem[:, n - 1] = 0.0
    return utrp.Problem(
        name="line",
        travel_min=t,
        demand=dem,
        n_routes=1,
        min_nodes=2,
        max_nodes=max_nodes,
        must_cover=must,
    )


def test_utrp_covers_every_node_unless_told_otherwise() -> None:
    # 6 nodes on a line, one route of at most 4 nodes: cannot cover all
    with pytest.raises(design.DesignError, match="cannot cover all 6 nodes"):
        utrp.design(_line_problem(6, None, 4), method="greedy")
    must = np.array([True, False, False, True, False, False])
    for method in ("greedy", "anneal"):
        p = _line_problem(6, must, 4)
        routes = utrp.design(p, method=method, seed=0, iterations=300)
        covered = {v for r in routes for v in r}
        assert {0, 3} <= covered
        assert not utrp.check_routes(p, routes)
    # a route set leaving an anchor out breaks the rule; one leaving node 5 out does not
    p = _line_problem(6, must, 4)
    assert not utrp.check_routes(p, [(0, 1, 2, 3)])
    (why,) = utrp.check_routes(p, [(1, 2, 3, 4)])
    assert "1 node(s) that must be covered are on no route (1-based: 1)" in why
    # the benchmark convention: every node
    full = _line_problem(4, None, 4)
    (why,) = utrp.check_routes(full, [(0, 1, 2)])
    assert "(1-based: 4)" in why


# ---------------------------------------------------------------------------------------------
# route ends: a terminal the bus cannot turn at, and an anchor's bare road node


class _Router:
    """Stands in for :class:`TurnRouter`: refuses every walk that turns round at one of the
    graph nodes in ``refuse`` (``WalkError.at`` names it, as the router does)."""

    def __init__(self, refuse: set[int]) -> None:
        self.refuse = refuse
        self.calls: list[list[int]] = []

    def cycle(self, nodes, **_kw):  # noqa: ANN001, ANN003, ANN201
        self.calls.append(list(nodes))
        for t in (nodes[-1], nodes[0]):
            if t in self.refuse:
                raise ReversalError(f"no turnaround at {t}", (t,))
        return ("walk", tuple(nodes))

    def turnaround_s(self, _node: int, _limit: float) -> float:
        return 0.0


def _end_ctx(refuse: set[int], terminals: tuple = ()) -> tuple[design._Ctx, KeyNetwork, _Router]:
    """Key nodes 0..3 at graph nodes 100..103, 1 km apart on a west-east line (key node 3 at
    the east end is an anchor's bare road node: no bus turns round there); turnable
    intersections at graph nodes 200 (150 m east of 103), 201 (400 m east) and 202 (1200 m east,
    beyond TERMINAL_REACH_M), and at 100..102."""
    from types import SimpleNamespace

    from scipy.spatial import cKDTree

    G = nx.MultiDiGraph(crs="epsg:4326")
    east = {100: 0.0, 101: 1000.0, 102: 2000.0, 103: 3000.0, 200: 3150.0, 201: 3400.0, 202: 4200.0}
    for v, x in east.items():
        G.add_node(v, x=126.9 + DX * x / 100.0, y=37.55)
    turn = np.array([100, 101, 102, 200, 201, 202], dtype=np.int64)
    snap = SimpleNamespace(
        turn_nodes=turn, turn_tree=cKDTree(design.node_xy(G, [int(v) for v in turn]))
    )
    router = _Router(refuse)
    ctx = design._Ctx(
        G=G, rm=None, rm_len=None, router=router, index=None, terminals=terminals, snap=snap
    )
    kn = dataclasses.replace(
        _network(4, {(0, 1): 2.0, (1, 2): 2.0, (2, 3): 2.0}, anchors=(3,)),
        turnable=(True, True, True, False),
    )
    return ctx, kn, router


def test_a_bare_anchor_node_ends_at_the_nearest_turnable_intersection_beyond_it() -> None:
    ctx, kn, router = _end_ctx(refuse={103})
    opts = design._end_options(ctx, kn, 3, [100, 101, 102, 103])
    # 150 m and 400 m beyond it (202 lies 1,200 m away, out of reach), then the node itself
    assert [o.node if o else None for o in opts] == [200, 201, None]
    assert all(o.name_ko == "" for o in opts if o)  # a block there, not a named terminal
    # a turnable key node turns round at itself (no terminal in reach)
    assert design._end_options(ctx, kn, 0, [100, 101, 102, 103]) == [None]
    far, near, cy = design._route_walk(ctx, kn, (0, 1, 2, 3), frozenset(), frozenset())
    assert far is not None
    assert far.node == 200
    assert near is None
    assert router.calls == [[100, 101, 102, 103, 200]]


def test_route_end_options_are_tried_in_turn_then_the_end_is_banned() -> None:
    ctx, kn, router = _end_ctx(refuse={200})
    far, _, _ = design._route_walk(ctx, kn, (0, 1, 2, 3), frozenset(), frozenset())
    assert far is not None
    assert far.node == 201
    assert [c[-1] for c in router.calls] == [200, 201]
    # no option turns: the route end (key node 3) is banned, in key-node form
    ctx, kn, router = _end_ctx(refuse={200, 201, 103})
    with pytest.raises(WalkError) as got:
        design._route_walk(ctx, kn, (0, 1, 2, 3), frozenset(), frozenset())
    assert got.value.at == (3,)
    assert [c[-1] for c in router.calls] == [200, 201, 103]


def test_a_terminal_the_bus_cannot_turn_at_falls_back_to_a_block_at_the_key_node() -> None:
    # a Seoul terminal 300 m west of key node 0 (turnable), where the router finds no loop
    term = design.Terminal("가상종점", 37.55, 126.9 - DX * 3.0, 300, named=False)
    ctx, kn, router = _end_ctx(refuse={300}, terminals=(term,))
    ctx.G.add_node(300, x=term.lon, y=term.lat)
    # direction 0 from key node 3 (bare: turns 150 m beyond, at 200) to key node 0
    assert design._end_options(ctx, kn, 0, [103, 102, 101, 100]) == [term, None]
    far, near, _ = design._route_walk(ctx, kn, (3, 2, 1, 0), frozenset(), frozenset())
    assert far is None  # a block at key node 0 itself
    assert near is not None
    assert near.node == 200
    assert router.calls == [[200, 103, 102, 101, 100, 300], [200, 103, 102, 101, 100]]


def test_a_close_node_is_passed_on_either_carriageway() -> None:
    """An anchor's key node on one carriageway of a divided road: the walk passes it within
    CLOSE_RADIUS_M in each direction, so direction 1 passes on the other carriageway (20 m
    away) instead of looping round to the node itself."""
    from shuttle.router import CLOSE_RADIUS_M

    G, ids = _divided_road(west_block=True)
    # a block at the east end too (A8 -> C8 -> C7 -> A7, then across to B7): both ends turn
    for name, x in (("C8", 480.0), ("C7", 420.0)):
        ids[name] = max(G.nodes) + 1
        G.add_node(ids[name], x=126.9 + DX * x / 100.0, y=37.55 - DY * 0.6, name=name)
    for u, v, m in (("A8", "C8", 60.0), ("C8", "C7", 60.0), ("C7", "A7", 60.0), ("A7", "B7", 20.0)):
        G.add_edge(ids[u], ids[v], length=m, travel_time=m / 10.0, highway="secondary")
    G.remove_edge(ids["A8"], ids["B8"])
    name = {v: k for k, v in ids.items()}
    assert 20.0 < CLOSE_RADIUS_M < 60.0 * 2
    router = TurnRouter(G, max_turn_deg=150.0)
    # the route B1 (west end, loop B1-B0-D0-D1-B1) .. A4 .. A7 (east end, loop A7-A8-C8-C7-A7)
    route = [ids["B1"], ids["A4"], ids["A7"]]
    cy = router.cycle(route, via_radius_m=0.0, close=[ids["A4"]])
    # the closed walk (direction 1 starts where direction 0 ends): A4 once, eastbound, and B4
    # once, westbound, each loop once
    walk = [name[n] for n in (*cy.out_nodes, *cy.back_nodes[1:])]
    assert walk.count("A4") == 1
    assert walk.count("B4") == 1
    assert walk.count("C8") == 1
    assert walk.count("D0") == 1
    # passing the node A4 itself in both directions (the old rule) drives the whole corridor
    # round again to come back eastbound
    exact = router.cycle(route, via_radius_m=0.0)
    again = [name[n] for n in (*exact.out_nodes, *exact.back_nodes[1:])]
    assert again.count("A4") >= 2
    assert exact.cost > cy.cost
