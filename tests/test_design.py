"""Route designer: the default network (greedy and anneal), a hand-built grid, bad inputs."""

from __future__ import annotations

import dataclasses
import json
import math

import networkx as nx
import numpy as np
import pytest

from shuttle import design, geo, paths
from shuttle import stops as stops_mod
from shuttle.config import Anchor, Scenario
from shuttle.errors import ConfigError, DesignError

# ------------------------------------------------------------------------------------------------
# fixtures: at most two designs of the default network per session


@pytest.fixture(params=sorted(design.ALGORITHMS))
def method(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _with_design(scenario: Scenario, **changes: object) -> Scenario:
    return dataclasses.replace(scenario, design=dataclasses.replace(scenario.design, **changes))


def _distinct_succ(G: nx.MultiDiGraph, n: int) -> int:
    return len(set(G.successors(n)) - {n})


# ------------------------------------------------------------------------------------------------
# the default network


def test_k_routes_with_ids_colours_and_contrast(designs, scenario, method) -> None:
    d = designs[method]
    assert [r.route_id for r in d.routes] == [f"R{i}" for i in range(1, scenario.design.routes + 1)]
    assert len({r.color for r in d.routes}) == len(d.routes)
    for r in d.routes:
        assert design.contrast_ratio(r.color, r.text_color) >= 4.5
        assert len(r.patterns) == 2
        assert [p.direction_id for p in r.patterns] == [0, 1]
        assert "–" in r.long_name_ko
        assert r.long_name_en


def test_every_anchor_served(designs, method) -> None:
    d = designs[method]
    served = {s.anchor for s in d.stops if s.anchor}
    assert {p.name_ko for p in d.places} <= served
    on_route = {s for r in d.routes for p in r.patterns for s in p.stop_ids}
    assert {s.stop_id for s in d.stops} == on_route
    assert list(d.stops) == sorted(d.stops, key=lambda s: s.stop_id)


def test_routes_stay_in_graph_without_uturns_or_repeats(designs, road_graph, method) -> None:
    G = road_graph
    stops = {s.stop_id: s for s in designs[method].stops}
    for r in designs[method].routes:
        for p in r.patterns:
            nodes = p.node_path
            edges = list(zip(nodes[:-1], nodes[1:], strict=True))
            assert all(G.has_edge(u, v) for u, v in edges), r.route_id
            assert not any(a == c for a, c in zip(nodes[:-2], nodes[2:], strict=True)), r.route_id
            assert len(set(edges)) == len(edges), f"{r.route_id} repeats a road edge"
            assert all(stops[s].node in set(nodes) for s in p.stop_ids)


def test_terminals_are_intersections(designs, road_graph, method) -> None:
    for r in designs[method].routes:
        for p in r.patterns:
            assert _distinct_succ(road_graph, p.node_path[0]) >= 3
            assert _distinct_succ(road_graph, p.node_path[-1]) >= 3
        # the two directions share their terminals (turn-around at an intersection)
        fwd, back = r.patterns
        assert fwd.node_path[0] == back.node_path[-1]
        assert fwd.node_path[-1] == back.node_path[0]


def _stop_positions(p, stops) -> list[int]:  # noqa: ANN001
    """Index in the node path of each stop's node, in order along the path."""
    out = []
    start = 0
    for sid in p.stop_ids:
        i = p.node_path.index(stops[sid].node, start)
        out.append(i)
        start = i
    return out


def test_pattern_geometry_and_spacing(designs, road_graph, scenario, method) -> None:
    G = road_graph
    st = scenario.stops
    stops = {s.stop_id: s for s in designs[method].stops}
    for r in designs[method].routes:
        for p in r.patterns:
            assert p.stop_dist_m[0] == 0.0
            assert math.isclose(p.stop_dist_m[-1], p.length_m, abs_tol=0.2)
            assert all(t > 0 for t in p.run_times_s)
            # shape length agrees with the road length between the terminal stops
            shape_m = geo.path_length_m(p.shape)
            assert abs(shape_m - p.length_m) <= 0.02 * p.length_m + 5.0
            gaps = np.diff(p.stop_dist_m)
            # longer gaps only where the road between the stops has nowhere to stop (expressway,
            # tunnel, bridge: the forced case of stops.place_stops)
            pos = _stop_positions(p, stops)
            for i, g in enumerate(gaps):
                if g > st.max_spacing_m + 1.0:
                    seg = p.node_path[max(0, pos[i] - 1) : pos[i + 1] + 2]
                    assert any(
                        not stops_mod.stoppable(d)
                        for u, v in zip(seg[:-1], seg[1:], strict=True)
                        for d in G[u][v].values()
                    ), f"{r.route_id}: gap of {g:.0f} m on stoppable road"
            for i, g in enumerate(gaps):
                if g < st.min_spacing_m - 1.0:  # only next to a forced stop (terminal or anchor)
                    a, b = p.stop_ids[i], p.stop_ids[i + 1]
                    forced = {p.stop_ids[0], p.stop_ids[-1]}
                    assert a in forced or b in forced or stops[a].anchor or stops[b].anchor


def test_bounds_hold(designs, scenario, method) -> None:
    ds = scenario.design
    k = designs[method].kpis
    for rk, r in zip(k.routes, designs[method].routes, strict=True):
        assert rk.route_id == r.route_id
        assert max(p.length_m for p in r.patterns) <= ds.max_route_km * 1000.0
        assert rk.cycle_s <= ds.max_cycle_min * 60.0
        assert min(len(set(p.stop_ids)) for p in r.patterns) >= ds.min_stops
        assert rk.cycle_s > 2 * rk.one_way_s - 2  # cycle includes both ways and layovers


def test_kpis_consistent(designs, method) -> None:
    k = designs[method].kpis
    assert k.method == method
    for v in (k.d0, k.d1, k.d2, k.dun):
        assert 0.0 <= v <= 100.0
    assert abs(k.d0 + k.d1 + k.d2 + k.dun - 100.0) <= 0.01
    assert 0.0 < k.coverage < 1.0
    assert k.att_min > 0
    assert k.vehicle_hours > 0
    assert {row[0] for row in k.coverage_by_district} == {11410, 11380, 11440}
    assert designs[method].catchment is not None


def test_anneal_beats_greedy(designs) -> None:
    assert designs["anneal"].kpis.objective <= designs["greedy"].kpis.objective


def test_json_and_geojson(designs) -> None:
    d = designs["greedy"]
    js = design.design_to_json(d)
    text = json.dumps(js, ensure_ascii=False, sort_keys=True)
    assert json.loads(text) == js
    assert [r["route_id"] for r in js["routes"]] == [r.route_id for r in d.routes]
    p0 = js["routes"][0]["patterns"][0]
    assert len(p0["stop_ids"]) == len(p0["stop_names_ko"]) == len(p0["run_times_s"]) + 1
    assert p0["node_path"]
    gj = design.design_to_geojson(d)
    assert gj["type"] == "FeatureCollection"
    lines = [f for f in gj["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in gj["features"] if f["geometry"]["type"] == "Point"]
    assert len(lines) == sum(len(r.patterns) for r in d.routes)
    assert len(points) == len(d.stops)
    lon, lat = lines[0]["geometry"]["coordinates"][0]
    assert 126.8 < lon < 127.0  # lon/lat order
    assert 37.5 < lat < 37.7
    assert all(f["properties"]["routes"] for f in points)


def test_deterministic(road_graph, scenario) -> None:
    small = _with_design(scenario, iterations=300)
    a = design.design_network(road_graph, small, method="anneal")
    b = design.design_network(road_graph, small, method="anneal")
    assert a == b
    assert design.design_to_json(a) == design.design_to_json(b)


# ------------------------------------------------------------------------------------------------
# bad input


def test_anchor_off_network(road_graph, scenario) -> None:
    # inside Eunpyeong-gu (Bukhansan), about 1.9 km from the nearest road node
    far = Anchor(kind="point", name="북한산 비봉", name_en="Bibong Peak", lat=37.630, lon=126.960)
    sc = dataclasses.replace(scenario, anchors=(*scenario.anchors, far))
    with pytest.raises(DesignError, match="북한산 비봉"):
        design.design_network(road_graph, sc, method="greedy")


def test_too_many_routes(road_graph, scenario) -> None:
    with pytest.raises(DesignError, match=r"design\.routes = 5000 in .*nw3\.toml"):
        design.design_network(road_graph, _with_design(scenario, routes=5000), method="greedy")


def test_route_km_too_short(road_graph, scenario) -> None:
    sc = _with_design(scenario, max_route_km=0.5, min_stops=2)
    with pytest.raises(DesignError, match=r"design\.max_route_km = 0\.5"):
        design.design_network(road_graph, sc, method="greedy")


def test_min_stops_impossible(road_graph, scenario) -> None:
    with pytest.raises(DesignError, match=r"design\.min_stops = 80"):
        design.design_network(road_graph, _with_design(scenario, min_stops=80), method="greedy")


def test_cycle_too_short(road_graph, scenario) -> None:
    with pytest.raises(DesignError, match=r"design\.max_cycle_min = 10"):
        design.design_network(road_graph, _with_design(scenario, max_cycle_min=10.0))


def test_unknown_method(road_graph, scenario) -> None:
    with pytest.raises(ConfigError, match=r"design\.method"):
        design.design_network(road_graph, scenario, method="genetic")


# ------------------------------------------------------------------------------------------------
# hand-built 4 x 4 grid: U-turn-free concatenation


def _grid() -> nx.MultiDiGraph:
    """4 x 4 two-way grid, node ``10 r + c``, edges 100 m; 10 s each except 12->13 (30 s) and
    12->11 (20 s), which make every expected walk below unique."""
    G = nx.MultiDiGraph(crs="epsg:4326")
    for r in range(4):
        for c in range(4):
            G.add_node(10 * r + c, x=126.9 + 0.00113 * c, y=37.55 + 0.0009 * r)
    for r in range(4):
        for c in range(4):
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr < 4 and c + dc < 4:
                    a, b = 10 * r + c, 10 * (r + dr) + c + dc
                    for u, v in ((a, b), (b, a)):
                        G.add_edge(u, v, length=100.0, travel_time=10.0, highway="secondary")
    G.edges[12, 13, 0]["travel_time"] = 30.0
    G.edges[12, 11, 0]["travel_time"] = 20.0
    return G


def _cost(G: nx.MultiDiGraph, nodes: list[int]) -> float:
    return sum(G.edges[u, v, 0]["travel_time"] for u, v in zip(nodes[:-1], nodes[1:], strict=True))


def _uturns(nodes: list[int]) -> int:
    return sum(1 for a, c in zip(nodes[:-2], nodes[2:], strict=True) if a == c)


def test_grid_uturn_free_concatenation() -> None:
    G = _grid()
    router = design.UTurnFreeRouter(G, paths.road_matrix(G))
    # Key nodes 0 -> 3 -> 1 along row 0. Concatenated shortest paths 0,1,2,3 (30 s) + 3,2,1
    # (20 s) reverse at the corner 3.
    naive = nx.shortest_path(G, 0, 3, weight="travel_time")
    naive += nx.shortest_path(G, 3, 1, weight="travel_time")[1:]
    assert naive == [0, 1, 2, 3, 2, 1]
    assert _uturns(naive) == 1
    # U-turn free: from 3 (entered from 2) the only exit is 13, then 12 and back up column 2
    # (12 -> 11 costs 20 s, so 12 -> 2 -> 1 wins): 30 + 10 + 10 + 10 + 10 = 70 s. Entering 3
    # from 13 instead costs 0,1,2,12,13,3 = 70 s before the 20 s back, 90 s in all.
    path = router.route([0, 3, 1])
    assert path == [0, 1, 2, 3, 13, 12, 2, 1]
    assert _uturns(path) == 0
    assert _cost(G, path) == pytest.approx(70.0)
    edges = list(zip(path[:-1], path[1:], strict=True))
    assert len(set(edges)) == len(edges)


def test_grid_route_through_corner_turns_round_the_block() -> None:
    G = _grid()
    router = design.UTurnFreeRouter(G, paths.road_matrix(G))
    # into the corner 3 and back to 2: clockwise round the block 2,3,13,12,2 (40 s); the other
    # way round, 2,12,13,3,2, pays the slow 12 -> 13 (60 s).
    path = router.route([2, 3, 2])
    assert path == [2, 3, 13, 12, 2]
    assert _cost(G, path) == pytest.approx(40.0)


def test_grid_via_radius_passes_near_a_key_node() -> None:
    G = _grid()
    router = design.UTurnFreeRouter(G, paths.road_matrix(G))
    exact = router.route([0, 2, 1])
    near = router.route([0, 2, 1], via_radius_m=150.0)  # node 1 or 3 or 12 count as "near 2"
    assert _cost(G, near) < _cost(G, exact)
    assert not any(a == c for a, c in zip(near[:-2], near[2:], strict=True))


def test_text_colour_contrast() -> None:
    for c in design.PALETTE:
        assert design.contrast_ratio(c, design.text_color_for(c)) >= 4.5
    assert design.text_color_for("FFFF00") == "000000"
    assert design.text_color_for("000075") == "FFFFFF"
