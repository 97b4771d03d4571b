"""Bus stops: reading, snapping to the edge they serve, placement along a path, catchment."""

from __future__ import annotations

import math
import re

import networkx as nx
import numpy as np
import pytest
import shapely

from shuttle import areas, geo, names, network, paths, places, stops
from shuttle.config import Scenario
from shuttle.errors import DesignError
from shuttle.model import Place
from shuttle.stops import BusStop

LAT0, LON0 = 37.5800, 126.9200  # Yeonhui-dong, Seodaemun-gu
M_PER_DEG_LAT = 111_195.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))


def at(east_m: float, north_m: float) -> tuple[float, float]:
    """(lat, lon) of a point east/north of the origin."""
    return LAT0 + north_m / M_PER_DEG_LAT, LON0 + east_m / M_PER_DEG_LON


def road(
    length_m: float,
    *,
    step_m: float = 500.0,
    two_way: bool = True,
    highway: str = "secondary",
    name: str = "테스트로",
) -> tuple[nx.MultiDiGraph, list[int]]:
    """A straight west-east road from the origin, nodes every ``step_m``, edges without geometry."""
    G = nx.MultiDiGraph(crs="epsg:4326")
    n = int(round(length_m / step_m))
    for i in range(n + 1):
        lat, lon = at(i * step_m, 0.0)
        G.add_node(i + 1, x=lon, y=lat)
    for i in range(1, n + 1):
        a, b = G.nodes[i], G.nodes[i + 1]
        length = geo.haversine_m(a["y"], a["x"], b["y"], b["x"])
        attrs = {"length": length, "highway": highway, "name": name, "travel_time": length / 7.5}
        G.add_edge(i, i + 1, 0, **attrs)
        if two_way:
            G.add_edge(i + 1, i, 0, **attrs)
    return G, list(range(1, n + 2))


def stop(ars: str, east_m: float, north_m: float, kind: str = "일반차로") -> BusStop:
    lat, lon = at(east_m, north_m)
    return BusStop(ars=ars, node_id=f"1{ars}", name_ko=f"정류장{ars}", lat=lat, lon=lon, kind=kind)


def gaps(ps: tuple[stops.PathStop, ...]) -> np.ndarray:
    return np.diff([p.dist_m for p in ps])


# ----------------------------------------------------------------------------------------------
# reading


def test_bus_stops_per_district_match_sources(scenario: Scenario) -> None:
    bs = stops.read_bus_stops(scenario)
    pts = shapely.points([s.lon for s in bs], [s.lat for s in bs])
    counts = {
        code: int(shapely.covers(poly, pts).sum())
        for code, poly in areas.district_polygons(scenario).items()
    }
    assert counts == {11410: 468, 11380: 503, 11440: 581}  # SOURCES.md
    assert len(bs) > sum(counts.values())  # plus the 500 m buffer


def test_ars_numbers_are_five_digit_text_sorted(scenario: Scenario) -> None:
    bs = stops.read_bus_stops(scenario)
    assert all(isinstance(s.ars, str) and re.fullmatch(r"\d{5}", s.ars) for s in bs)
    assert [s.ars for s in bs] == sorted(s.ars for s in bs)
    everything = places.read_all_bus_stops(scenario)
    assert len(everything) == 11291
    assert {s.ars for s in everything if s.name_ko == "종로2가사거리"} >= {"01001"}


# ----------------------------------------------------------------------------------------------
# snapping on hand-built roads


def test_stop_right_of_u_v_goes_to_u_v_on_a_two_way_road() -> None:
    G, _ = road(100.0, step_m=100.0)
    south = stop("13001", 40.0, -10.0)  # right of the eastbound edge 1 -> 2
    north = stop("13002", 60.0, 10.0)  # right of the westbound edge 2 -> 1
    idx = stops.build_stop_index(G, [south, north])
    assert [s.stop.ars for s in idx.by_edge[(1, 2, 0)]] == ["13001"]
    assert [s.stop.ars for s in idx.by_edge[(2, 1, 0)]] == ["13002"]
    s1, s2 = idx.snapped
    assert (s1.side, s2.side) == ("right", "right")
    assert s1.offset_m == pytest.approx(40.0, abs=1.0)  # from u = node 1
    assert s2.offset_m == pytest.approx(40.0, abs=1.0)  # from u = node 2 (100 - 60)
    assert s1.lateral_m == pytest.approx(10.0, abs=0.5)
    assert idx.share_snapped == 1.0


def test_one_way_road_takes_a_stop_on_either_side() -> None:
    G, _ = road(100.0, step_m=100.0, two_way=False)
    idx = stops.build_stop_index(G, [stop("13001", 50.0, 12.0)])
    (s,) = idx.snapped
    assert (s.u, s.v, s.side) == (1, 2, "left")


def test_far_virtual_and_expressway_stops_are_left_out() -> None:
    G, _ = road(200.0, step_m=100.0)
    far = stop("13001", 50.0, -60.0)
    virtual = stop("13002", 50.0, -5.0, kind="가상정류장")
    idx = stops.build_stop_index(G, [far, virtual])
    assert idx.snapped == ()
    assert [s.ars for s in idx.unsnapped] == ["13001", "13002"]
    G2, _ = road(200.0, step_m=100.0, highway="trunk")
    assert stops.build_stop_index(G2, [stop("13003", 50.0, -5.0)]).snapped == ()


def test_snapping_uses_edge_geometry_oriented_u_to_v() -> None:
    # a bent edge 1 -> 2 via a point 100 m north; geometry stored from v to u must not matter
    G = nx.MultiDiGraph(crs="epsg:4326")
    (la1, lo1), (lam, lom), (la2, lo2) = at(0, 0), at(100, 100), at(200, 0)
    G.add_node(1, x=lo1, y=la1)
    G.add_node(2, x=lo2, y=la2)
    geom = shapely.LineString([(lo2, la2), (lom, lam), (lo1, la1)])  # reversed on purpose
    G.add_edge(1, 2, 0, length=283.0, geometry=geom, highway="minor", travel_time=50.0)
    s = stop("13001", 100.0, 90.0)  # 10 m below the bend: right of 1 -> 2 (north-east, then SE)
    (snapped,) = stops.build_stop_index(G, [s]).snapped
    assert snapped.side == "right"
    # projection on the first leg: (100 + 90) / sqrt(2) m, scaled by length / geometry length
    assert snapped.offset_m == pytest.approx(190 / math.sqrt(2) * 283.0 / 282.84, abs=1.5)
    assert snapped.lateral_m == pytest.approx(10 / math.sqrt(2), abs=0.5)


def test_real_bus_stops_snap(road_graph: nx.MultiDiGraph, scenario: Scenario) -> None:
    idx = stops.build_stop_index(road_graph, stops.read_bus_stops(scenario))
    union = shapely.union_all(list(areas.district_polygons(scenario).values()))

    def inside(s: BusStop) -> bool:
        return bool(union.covers(shapely.Point(s.lon, s.lat)))

    ok = sum(inside(s.stop) for s in idx.snapped)
    missed = sum(inside(s) for s in idx.unsnapped if s.kind != stops.VIRTUAL_KIND)
    assert ok / (ok + missed) > 0.95  # measured 99.9 % on the 2021-08 tile graph
    assert all(s.lateral_m <= 40.0 for s in idx.snapped)
    sides = [s.side for s in idx.snapped]
    assert sides.count("right") / len(sides) > 0.95
    for (u, v, k), on_edge in idx.by_edge.items():
        assert road_graph.has_edge(u, v, k)
        assert stops.stoppable(road_graph.edges[u, v, k])
        offs = [s.offset_m for s in on_edge]
        assert offs == sorted(offs)
        assert offs[0] >= 0.0
        assert offs[-1] <= road_graph.edges[u, v, k]["length"] + 1e-6


# ----------------------------------------------------------------------------------------------
# placement on hand-built roads


def test_new_stops_where_there_is_no_bus_stop(scenario: Scenario) -> None:
    G, path = road(3000.0)
    idx = stops.build_stop_index(G, [])
    ps = stops.place_stops(G, path, idx, scenario)
    assert ps[0].dist_m == 0.0
    assert ps[-1].dist_m == pytest.approx(3000.0, abs=5.0)
    assert ps[0].terminal
    assert ps[-1].terminal
    assert not any(p.terminal for p in ps[1:-1])
    assert all(p.ars is None for p in ps)
    # no landmark or crossing near: the road's name, numbered so that neighbours differ
    assert ps[0].name_ko == "테스트로"
    assert all(re.fullmatch(r"테스트로( \d)?", p.name_ko) for p in ps)
    assert all(p.name_ko != q.name_ko for p, q in zip(ps, ps[1:], strict=False))
    # each new stop stands at the right-hand kerb of the eastbound road: 6 m south of it
    for p in ps:
        assert geo.haversine_m(p.lat, p.lon, LAT0, p.lon) == pytest.approx(6.0, abs=0.1)
        assert p.lat < LAT0
    g = gaps(ps)
    assert g.min() >= scenario.stops.min_spacing_m
    assert g.max() <= scenario.stops.max_spacing_m
    assert ps[0].node == path[0]
    assert ps[-1].node == path[-1]


def test_real_bus_stops_preferred_and_spaced(scenario: Scenario) -> None:
    G, path = road(3000.0)
    every_100m = [stop(f"13{i:03d}", 50.0 + 100.0 * i, -8.0) for i in range(30)]
    idx = stops.build_stop_index(G, every_100m)
    ps = stops.place_stops(G, path, idx, scenario)
    assert all(p.ars is not None for p in ps)  # terminals too: stops within 150 m of the ends
    assert ps[0].ars == "13000"
    assert ps[-1].ars == "13029"
    g = gaps(ps)
    assert g.min() >= scenario.stops.min_spacing_m
    assert g.max() <= scenario.stops.max_spacing_m
    assert abs(float(g.mean()) - 490.0) < 100.0  # near the target spacing sqrt(300 * 800)
    own = next(s for s in every_100m if s.ars == ps[1].ars)
    assert (ps[1].lat, ps[1].lon) == pytest.approx((own.lat, own.lon), abs=1e-6)  # not on the road


def test_stops_of_the_other_direction_are_not_used(scenario: Scenario) -> None:
    G, path = road(3000.0)
    north_side = [stop(f"13{i:03d}", 50.0 + 100.0 * i, 8.0) for i in range(30)]
    idx = stops.build_stop_index(G, north_side)
    assert all(p.ars is None for p in stops.place_stops(G, path, idx, scenario))
    back = stops.place_stops(G, path[::-1], idx, scenario)
    assert all(p.ars is not None for p in back)


def test_anchor_gets_a_new_stop_when_no_bus_stop_is_near(scenario: Scenario) -> None:
    G, path = road(3000.0)
    far_stops = [stop("13001", 400.0, -8.0), stop("13002", 2600.0, -8.0)]
    idx = stops.build_stop_index(G, far_stops)
    lat, lon = at(1500.0, 100.0)
    anchor = Place("가상구청", "Virtual Office", "point", lat, lon, 11410)
    ps = stops.place_stops(G, path, idx, scenario, anchors=[anchor])
    (a,) = [p for p in ps if p.anchor == "가상구청"]
    assert a.ars is None
    assert a.name_ko == "가상구청"
    assert a.dist_m == pytest.approx(1500.0, abs=5.0)
    assert geo.haversine_m(a.lat, a.lon, *at(1500.0, -6.0)) < 1.0  # at the right-hand kerb
    assert a.anchor_m == pytest.approx(106.0, abs=1.0)  # 100 m north of the road + 6 m
    # a bus stop 120 m from the anchor serves it instead of a new stop
    idx2 = stops.build_stop_index(G, [*far_stops, stop("13003", 1560.0, -8.0)])
    ps2 = stops.place_stops(G, path, idx2, scenario, anchors=[anchor])
    (a2,) = [p for p in ps2 if p.anchor == "가상구청"]
    assert a2.ars == "13003"
    assert a2.anchor_m == pytest.approx(math.hypot(60.0, 108.0), abs=1.0)
    # an anchor 400 m off the road is not this path's business
    far = Place("먼곳", "Far", "point", *at(1500.0, 400.0), 11410)
    assert all(p.anchor is None for p in stops.place_stops(G, path, idx, scenario, anchors=[far]))


def test_anchor_at_the_end_is_the_terminal(scenario: Scenario) -> None:
    G, path = road(2000.0)
    idx = stops.build_stop_index(G, [stop("13001", 1000.0, -8.0)])
    end = Place("종점", "End", "point", *at(2040.0, 30.0), 11410)
    ps = stops.place_stops(G, path, idx, scenario, anchors=[end])
    assert ps[-1].terminal
    assert ps[-1].anchor == "종점"
    assert sum(p.terminal for p in ps) == 2


def test_path_errors(scenario: Scenario) -> None:
    G, path = road(1000.0)
    idx = stops.build_stop_index(G, [])
    with pytest.raises(DesignError, match="at least two nodes"):
        stops.place_stops(G, path[:1], idx, scenario)
    with pytest.raises(DesignError, match="not joined by a road edge"):
        stops.place_stops(G, [path[0], path[2]], idx, scenario)


# ----------------------------------------------------------------------------------------------
# placement on the real graph


@pytest.fixture(scope="module")
def real_routes(road_graph: nx.MultiDiGraph, scenario: Scenario):  # noqa: ANN201
    plc = places.resolve_places(scenario)
    idx = stops.build_stop_index(road_graph, stops.read_bus_stops(scenario))
    rm = paths.road_matrix(road_graph)
    nodes = network.nearest_nodes(road_graph, [p.lat for p in plc], [p.lon for p in plc])
    by_name = {p.name_ko: int(n) for p, n in zip(plc, nodes, strict=True)}
    out = {}
    for a, b in [("연신내", "홍대입구"), ("서대문구청", "공덕"), ("디지털미디어시티", "신촌")]:
        _, pred = paths.shortest(rm, [by_name[a]], predecessors=True)
        path = paths.path_nodes(rm, pred[0], by_name[a], by_name[b])
        out[(a, b)] = (path, stops.place_stops(road_graph, path, idx, scenario, anchors=plc))
    return out


def test_real_paths_serve_terminals_and_anchors(real_routes: dict) -> None:
    for (a, b), (_, ps) in real_routes.items():
        assert ps[0].terminal
        assert ps[-1].terminal
        assert ps[0].anchor == a
        assert ps[-1].anchor == b
        served = {p.anchor for p in ps if p.anchor}
        assert {a, b} <= served
    # 서대문구청 -> 공덕 passes Hongik Univ. and Sinchon stations
    assert {"홍대입구", "신촌"} <= {p.anchor for p in real_routes[("서대문구청", "공덕")][1]}


def test_real_paths_spacing_and_real_stop_share(
    real_routes: dict, road_graph: nx.MultiDiGraph, scenario: Scenario
) -> None:
    lo, hi = scenario.stops.min_spacing_m, scenario.stops.max_spacing_m
    n_real = n_all = 0
    for _, ps in real_routes.values():
        d = [p.dist_m for p in ps]
        assert d == sorted(d)
        for p, q in zip(ps, ps[1:], strict=False):
            forced = p.terminal or q.terminal or p.anchor or q.anchor
            if not forced:
                assert lo - 1e-6 <= q.dist_m - p.dist_m, (p, q)
            assert q.dist_m - p.dist_m <= hi + 1e-6, (p, q)
        n_real += sum(p.ars is not None for p in ps)
        n_all += len(ps)
    assert n_real / n_all > 0.7  # measured 30 of 39 (77 %)


def test_new_stop_named_after_a_landmark(scenario: Scenario) -> None:
    """A new stop within 150 m of a landmark takes its name; the others keep the road's."""
    from types import SimpleNamespace

    G, path = road(3000.0)
    plain = stops.place_stops(G, path, stops.build_stop_index(G, []), scenario)
    target = plain[len(plain) // 2]
    school = SimpleNamespace(name="테스트초등학교", lat=target.lat + 0.0005, lon=target.lon)
    idx = stops.build_stop_index(G, [], landmarks=[school])
    named = stops.place_stops(G, path, idx, scenario)
    assert [p.dist_m for p in named] == [p.dist_m for p in plain]
    assert named[len(named) // 2].name_ko == "테스트초등학교"
    assert sum(p.name_ko == "테스트초등학교" for p in named) == 1
    assert all(p.name_ko.startswith("테스트로") for p in named if p is not named[len(named) // 2])


def test_new_stops_only_on_stoppable_roads(real_routes: dict, road_graph: nx.MultiDiGraph) -> None:
    for path, ps in real_routes.values():
        for p in ps:
            if p.ars is None and not p.terminal:
                u, v = path[p.edge_index], path[p.edge_index + 1]
                k = min(road_graph[u][v], key=lambda k: (road_graph[u][v][k]["travel_time"], k))
                assert stops.stoppable(road_graph.edges[u, v, k])
                assert re.search("[가-힣]", p.name_ko), p  # a landmark, the road or the anchor


# ----------------------------------------------------------------------------------------------
# ids, Stop objects, catchment


def test_stop_ids_are_stable() -> None:
    assert stops.make_stop_id("13001", 0.0, 0.0) == "S13001"
    a = stops.make_stop_id(None, 37.5800001, 126.9200002)
    assert re.fullmatch(r"N[0-9a-f]{8}", a)
    assert a == stops.make_stop_id(None, 37.58, 126.92)
    assert a != stops.make_stop_id(None, 37.58002, 126.92)


def test_stops_merge_across_routes(scenario: Scenario) -> None:
    def ps(ars: str | None, lat: float, anchor: str | None = None) -> stops.PathStop:
        return stops.PathStop(
            0.0, lat, LON0, 1, ars, "서대문구청" if ars else "테스트로 (신설)", anchor
        )

    merged = stops.stops_from_path_stops(
        [ps("13775", LAT0), ps(None, LAT0 + 0.001), ps("13775", LAT0, "서대문구청")], scenario
    )
    assert [s.stop_id for s in merged] == sorted(s.stop_id for s in merged)
    assert len(merged) == 2
    real = next(s for s in merged if s.ars)
    assert (real.stop_id, real.anchor, real.district) == ("S13775", "서대문구청", 11410)
    assert real.name_en == "Seodaemun-gu Office"
    new = next(s for s in merged if not s.ars)
    assert new.name_en == "Teseuteu-ro (New)"


def test_catchment_coverage(scenario: Scenario) -> None:
    zones = areas.read_zones(scenario)
    total = sum(z.population for z in zones)
    bs = stops.read_bus_stops(scenario)
    area, cov, by_gu = stops.catchment(bs, scenario, zones)
    assert 0.8 < cov <= 1.0  # all bus stops: measured 90 %
    assert [g for g, _, _ in by_gu] == list(scenario.districts)
    assert sum(c for _, c, _ in by_gu) == area.population
    assert sum(p for _, _, p in by_gu) == total
    assert cov == pytest.approx(area.population / total)
    assert all(0 <= c <= p for _, c, p in by_gu)
    assert area.code == 0
    assert area.polygons
    ring = area.polygons[0][0]
    assert ring[0] == ring[-1]
    assert 37.4 < ring[0][0] < 37.7
    one, cov1, _ = stops.catchment(bs[:1], scenario, zones)
    assert 0.0 < cov1 < cov
    none, cov0, by0 = stops.catchment([], scenario, zones)
    assert cov0 == 0.0
    assert none.polygons == ()
    assert all(c == 0 for _, c, _ in by0)


def test_catchment_of_one_stop_is_a_400m_disc(scenario: Scenario) -> None:
    lat, lon = at(0.0, 0.0)
    area, _, _ = stops.catchment([stop("13001", 0.0, 0.0)], scenario, areas.read_zones(scenario))
    poly = geo.to_metric(shapely.Polygon([(x, y) for y, x in area.polygons[0][0]]))
    assert poly.area == pytest.approx(math.pi * 400.0**2, rel=0.02)
    cx, cy = geo.to_metric_xy(lon, lat)
    assert poly.centroid.distance(shapely.Point(float(cx), float(cy))) < 2.0


# ----------------------------------------------------------------------------------------------
# stops a rider recognises: real stops first, pairs, names, no repeats


def _side(G: nx.MultiDiGraph, u: int, v: int, lat: float, lon: float) -> float:
    """Cross product of the edge u -> v with the vector u -> stop (metric): < 0 is the right."""
    ux, uy = geo.to_metric_xy(G.nodes[u]["x"], G.nodes[u]["y"])
    vx, vy = geo.to_metric_xy(G.nodes[v]["x"], G.nodes[v]["y"])
    px, py = geo.to_metric_xy(lon, lat)
    return float((vx - ux) * (py - uy) - (vy - uy) * (px - ux))


def test_new_stops_come_in_pairs_on_the_right_hand_side(scenario: Scenario) -> None:
    G, path = road(3000.0)
    idx = stops.build_stop_index(G, [])
    east, west = stops.place_route_stops(G, [path, path[::-1]], idx, scenario)
    assert all(p.ars is None for p in (*east, *west))
    assert len(east) == len(west)
    ids_e = {stops.stop_id_of(p) for p in east}
    ids_w = {stops.stop_id_of(p) for p in west}
    assert not ids_e & ids_w  # never one point for both directions
    for p, q in zip(east, reversed(west), strict=True):
        assert p.dist_m == pytest.approx(3000.0 - q.dist_m, abs=6.0)  # opposite each other
        assert p.name_ko == q.name_ko
        for ps, rev in ((p, False), (q, True)):
            n = ps.edge_index
            u, v = (path[n], path[n + 1]) if not rev else (path[::-1][n], path[::-1][n + 1])
            assert _side(G, u, v, ps.lat, ps.lon) < 0  # right of its own direction of travel
        assert geo.haversine_m(p.lat, p.lon, q.lat, q.lon) == pytest.approx(12.0, abs=6.5)


def test_partner_is_the_real_stop_across_the_road(scenario: Scenario) -> None:
    G, path = road(3000.0)
    # one westbound bus stop (north side) at 1500 m, nothing on the eastbound side
    idx = stops.build_stop_index(G, [stop("13001", 1500.0, 8.0)])
    east, west = stops.place_route_stops(G, [path, path[::-1]], idx, scenario)
    assert [p.ars for p in west].count("13001") == 1
    assert all(p.ars is None for p in east)
    # the eastbound stops keep 100 m (stops.real_stop_snap_m) away from it
    for p in east:
        assert geo.haversine_m(p.lat, p.lon, *at(1500.0, 8.0)) > 100.0


def test_bus_stop_beside_the_path_replaces_a_new_stop(scenario: Scenario) -> None:
    """A stop snapped to a parallel service road 12 m south is served from the main road."""
    G, path = road(3000.0)
    for n, east_m in ((100, 1300.0), (101, 1700.0)):
        lat, lon = at(east_m, -12.0)
        G.add_node(n, x=lon, y=lat)
    G.add_edge(100, 101, 0, length=400.0, highway="minor", name="옆길", travel_time=60.0)
    bus = stop("13001", 1500.0, -16.0)  # 4 m + 5 (minor) from the service road, 16 m from the main
    idx = stops.build_stop_index(G, [bus])
    (s,) = idx.snapped
    assert (s.u, s.v) == (100, 101)  # not on the main road
    ps = stops.place_stops(G, path, idx, scenario)
    assert [p.ars for p in ps].count("13001") == 1
    assert max(gaps(ps)) <= scenario.stops.max_spacing_m
    # westbound, the stop is on the far side: not used
    assert all(p.ars is None for p in stops.place_stops(G, path[::-1], idx, scenario))


def test_anchor_near_a_bus_stop_beyond_the_radius_takes_it(scenario: Scenario) -> None:
    G, path = road(3000.0)
    idx = stops.build_stop_index(G, [stop("13003", 1580.0, -8.0)])
    # 208 m north of the road at 1500 m: 150 m from no stop; a new stop at 1500 m would stand
    # 80 m from 13003 (real_stop_snap_m = 100), so 13003 serves the anchor
    anchor = Place("가상구청", "Virtual Office", "point", *at(1500.0, 208.0), 11410)
    ps = stops.place_stops(G, path, idx, scenario, anchors=[anchor])
    (a,) = [p for p in ps if p.anchor == "가상구청"]
    assert a.ars == "13003"
    assert a.anchor_m == pytest.approx(math.hypot(80.0, 216.0), abs=1.0)


def test_no_two_consecutive_stops_share_a_name(scenario: Scenario) -> None:
    G, path = road(3000.0)
    same = [
        BusStop(f"13{i:03d}", f"1{i:03d}", "웨딩타운", *at(50.0 + 100.0 * i, -8.0), "일반차로")
        for i in range(30)
    ]
    ps = stops.place_stops(G, path, stops.build_stop_index(G, same), scenario)
    ids = [stops.stop_id_of(p) for p in ps]
    assert len(ids) == len(set(ids))
    assert all(p.name_ko != q.name_ko for p, q in zip(ps, ps[1:], strict=False))
    assert ps[0].ars == "13000"  # the terminals stay real stops


def test_same_name_never_two_stops_200m_apart(scenario: Scenario) -> None:
    def new(east_m: float, north_m: float, road_ko: str) -> stops.PathStop:
        lat, lon = at(east_m, north_m)
        return stops.PathStop(0.0, lat, lon, 1, None, "토정로", road_ko=road_ko)

    merged = stops.stops_from_path_stops(
        [new(0.0, -6.0, "토정로"), new(0.0, 6.0, "토정로"), new(1000.0, -6.0, "토정로")], scenario
    )
    by_name: dict[str, list] = {}
    for s in merged:
        by_name.setdefault(s.name_ko, []).append(s)
    assert sorted(len(v) for v in by_name.values()) == [1, 2]  # the pair keeps one name
    for group in by_name.values():
        for s in group:
            assert all(geo.haversine_m(s.lat, s.lon, t.lat, t.lon) <= 200.0 for t in group)
    assert all(s.name_en for s in merged)


def test_intersection_name_for_a_new_stop(scenario: Scenario) -> None:
    G, path = road(3000.0, name="연희로")
    # a crossing street 증가로 at node 4 (1500 m), and a lane 연희로1길 at node 3 (1000 m)
    for n, (east_m, north_m), name in (
        (50, (1500.0, 300.0), "증가로"),
        (51, (1000.0, 300.0), "연희로1길"),
    ):
        lat, lon = at(east_m, north_m)
        G.add_node(n, x=lon, y=lat)
        G.add_edge(n, n - 46, 0, length=300.0, highway="tertiary", name=name, travel_time=40.0)
    ps = stops.place_stops(G, path, stops.build_stop_index(G, []), scenario)
    near = [p for p in ps if abs(p.dist_m - 1500.0) <= stops.CROSSING_M]
    assert near
    assert all(p.name_ko == "연희로·증가로교차로" for p in near)
    assert names.english_name("연희로·증가로교차로") == "Yeonhui-ro / Jeungga-ro Intersection"


def _follow(
    G: nx.MultiDiGraph, node: int, name: str, n: int, *, forward: bool, avoid: int
) -> list[int]:
    """Up to ``n`` nodes along the road ``name`` from ``node`` (forward or backward), not via
    ``avoid``."""
    out = [node]
    for _ in range(n):
        nxt = [
            (w if forward else u)
            for u, w, d in (
                G.out_edges(out[-1], data=True) if forward else G.in_edges(out[-1], data=True)
            )
            if d.get("name") == name and (w if forward else u) not in (*out, avoid)
        ]
        if not nxt:
            break
        out.append(min(nxt))
    return out if forward else out[::-1]


def test_eunpyeong_office_is_served_by_its_own_bus_stops(
    road_graph: nx.MultiDiGraph, scenario: Scenario
) -> None:
    """The stops named 은평구청 (ARS 12126, 12135) serve the 은평구청 anchor, both ways."""
    plc = places.resolve_places(scenario)
    office = next(p for p in plc if p.name_ko == "은평구청")
    idx = stops.build_stop_index(road_graph, stops.read_bus_stops(scenario))
    # no stop within 150 m of the POI; the two named 은평구청 are 186 m and 206 m away
    assert [s.stop.ars for s, _ in stops.anchor_stops(idx, office)] == ["12126", "12135"]
    for ars in ("12126", "12135"):
        s = next(x for x in idx.snapped if x.stop.ars == ars)
        name = road_graph.edges[s.u, s.v, s.key]["name"]
        assert name == "은평로"
        path = _follow(road_graph, s.u, name, 8, forward=False, avoid=s.v)
        path += _follow(road_graph, s.v, name, 8, forward=True, avoid=s.u)
        ps = stops.place_stops(road_graph, path, idx, scenario, anchors=[office])
        (a,) = [p for p in ps if p.anchor == "은평구청"]
        assert a.ars == ars
        bus = s.stop
        assert a.anchor_m == pytest.approx(
            geo.haversine_m(office.lat, office.lon, bus.lat, bus.lon), abs=2.0
        )


def test_real_paths_no_new_stop_near_an_unused_bus_stop(
    road_graph: nx.MultiDiGraph, scenario: Scenario
) -> None:
    plc = places.resolve_places(scenario)
    idx = stops.build_stop_index(road_graph, stops.read_bus_stops(scenario))
    rm = paths.road_matrix(road_graph)
    nodes = network.nearest_nodes(road_graph, [p.lat for p in plc], [p.lon for p in plc])
    by_name = {p.name_ko: int(n) for p, n in zip(plc, nodes, strict=True)}
    placed: list[stops.PathStop] = []
    for a, b in [("연신내", "홍대입구"), ("서대문구청", "공덕"), ("디지털미디어시티", "신촌")]:
        legs = []
        for x, y in ((a, b), (b, a)):
            _, pred = paths.shortest(rm, [by_name[x]], predecessors=True)
            legs.append(paths.path_nodes(rm, pred[0], by_name[x], by_name[y]))
        for ps in stops.place_route_stops(road_graph, legs, idx, scenario, anchors=plc):
            placed.extend(ps)
            ids = [stops.stop_id_of(p) for p in ps]
            assert len(ids) == len(set(ids))
    used = {p.ars for p in placed if p.ars}
    unused = [s for s in stops.read_bus_stops(scenario) if s.ars not in used]
    unused = [s for s in unused if s.kind != stops.VIRTUAL_KIND]
    # the fixture's paths end at the node nearest an anchor, not at a terminal the designer
    # chose (test_plan_stops_a_rider_recognises covers terminals)
    new = [p for p in placed if p.ars is None and not p.terminal]
    assert new
    close = [
        (p.name_ko, s.name_ko)
        for p in new
        for s in unused
        if geo.haversine_m(p.lat, p.lon, s.lat, s.lon) <= scenario.stops.real_stop_snap_m
    ]
    assert close == [], close


def test_plan_stops_a_rider_recognises(designs) -> None:  # noqa: ANN001
    """The default design: no stop twice in a direction, no name twice in a row or far apart.

    (The rest of issue 8 item 4: test_plan_no_new_stop_near_an_unused_bus_stop and
    test_plan_anchor_stops_and_distances.)
    """
    d = designs["anneal"]
    by_id = {s.stop_id: s for s in d.stops}
    for r in d.routes:
        for p in r.patterns:
            ids = list(p.stop_ids)
            assert len(ids) == len(set(ids)), (r.route_id, p.direction_id)
            names_ = [by_id[i].name_ko for i in ids]
            assert all(a != b for a, b in zip(names_, names_[1:], strict=False)), r.route_id
    groups: dict[str, list] = {}
    for s in d.stops:
        groups.setdefault(s.name_ko, []).append(s)
    for name, group in groups.items():
        if any(s.ars is None for s in group):
            spread = max(geo.haversine_m(a.lat, a.lon, b.lat, b.lon) for a in group for b in group)
            assert spread <= 200.0, name


# ----------------------------------------------------------------------------------------------
# issue 8 item 4 on hand-made cases: turnaround loops, anchors, pairs


def loop_road() -> tuple[nx.MultiDiGraph, list[int], list[int]]:
    """A two-way road 0 -> 1500 m east, then a one-way clockwise block loop at its east end:
    (1500, 0) -> (1500, 200) -> (1700, 200) -> (1700, 0) -> (1500, 0), all right turns.

    Returns the graph, the outbound path (road + half the loop, to (1700, 200)) and the
    return path (the other half, then the road back west)."""
    G, path = road(1500.0)
    e = path[-1]
    corners = {10: (1500.0, 200.0), 11: (1700.0, 200.0), 12: (1700.0, 0.0)}
    for n, xy in corners.items():
        lat, lon = at(*xy)
        G.add_node(n, x=lon, y=lat)
    for u, v in ((e, 10), (10, 11), (11, 12), (12, e)):
        a, b = G.nodes[u], G.nodes[v]
        length = geo.haversine_m(a["y"], a["x"], b["y"], b["x"])
        attrs = {"highway": "tertiary", "name": "고리길", "travel_time": length / 7.0}
        G.add_edge(u, v, 0, length=length, **attrs)
    return G, [*path, 10, 11], [11, 12, *path[::-1]]


def test_loop_turnaround_takes_the_real_stop_on_the_loop(scenario: Scenario) -> None:
    G, out, back = loop_road()
    # a bus stop on the loop's top edge, heading east: its right is the south side (y = 192);
    # 100 m west of the split at (1700, 200), within stops.new_stop_radius_m (150)
    idx = stops.build_stop_index(G, [stop("13500", 1600.0, 192.0)])
    ends = stops.turnaround_stops(G, out, idx, scenario, at_end=True)
    assert ends[0].ars == "13500"
    assert ends[0].terminal
    # along the path: 1500 m of road + 200 m north + 100 m east
    assert ends[0].dist_m == pytest.approx(1800.0, abs=2.0)
    # the return path starts at the split heading south: the stop is behind it, not offered
    assert all(p.ars is None for p in stops.turnaround_stops(G, back, idx, scenario, at_end=False))


def test_loop_turnaround_new_stop_keeps_clear_of_bus_stops(scenario: Scenario) -> None:
    G, out, back = loop_road()
    # a bus stop 60 m north of the loop's top edge (beyond the 40 m snap: served by no road
    # of the graph), at x = 1600: points of the top edge within sqrt(100^2 - 60^2) = 80 m of
    # x = 1600 stand within 100 m of it
    far = stop("13501", 1600.0, 260.0)
    idx = stops.build_stop_index(G, [far])
    assert [s.ars for s in idx.unsnapped] == ["13501"]
    for path, at_end in ((out, True), (back, False)):
        first_new = next(
            p for p in stops.turnaround_stops(G, path, idx, scenario, at_end=at_end) if not p.ars
        )
        d = geo.haversine_m(first_new.lat, first_new.lon, far.lat, far.lon)
        assert d > scenario.stops.real_stop_snap_m, (at_end, d)
    # the split (1700, 200) is 117 m from the stop: the return path's first offer is the split,
    # 6 m west of it (the right-hand kerb heading south)
    first = stops.turnaround_stops(G, back, idx, scenario, at_end=False)[0]
    assert first.dist_m == pytest.approx(0.0, abs=0.5)
    assert geo.haversine_m(first.lat, first.lon, *at(1694.0, 200.0)) < 1.0


def test_pairs_keep_clear_of_bus_stops_and_the_spacing(scenario: Scenario) -> None:
    """A 6 km two-way road with bus stops on the eastbound side only, in two clusters: the new
    stops of either direction come in pairs, and no new stop stands within 100 m of a bus stop
    either side of the road."""
    G, path = road(6000.0)
    east_only = [stop(f"13{i:03d}", x, -8.0) for i, x in enumerate((900.0, 1400.0, 4100.0))]
    idx = stops.build_stop_index(G, east_only)
    east, west = stops.place_route_stops(G, [path, path[::-1]], idx, scenario)
    st = scenario.stops
    # the westbound direction takes no bus stop across the road; the eastbound one takes some
    assert all(p.ars is None for p in west)
    assert any(p.ars for p in east)
    for p in (*east, *west):
        if p.ars is None:
            for s in east_only:
                assert geo.haversine_m(p.lat, p.lon, s.lat, s.lon) > st.real_stop_snap_m
    # pairs: each westbound new stop has an eastbound stop across the road (its partner, or
    # the bus stop there), and each eastbound new stop a westbound partner within 12 m + 6
    for q in west:
        x = 6000.0 - q.dist_m
        assert min(abs(p.dist_m - x) for p in east) <= st.real_stop_snap_m + 25.0, q
    for p in east:
        if p.ars is None:
            assert min(abs((6000.0 - q.dist_m) - p.dist_m) for q in west) <= 6.0, p
    for ps in (east, west):
        g = gaps(ps)
        assert g.max() <= st.max_spacing_m
        assert g.min() >= st.min_spacing_m / 2  # a new stop kept clear of a bus stop


def test_anchor_served_at_the_nearest_bus_stop_of_each_side(scenario: Scenario) -> None:
    G, path = road(3000.0)
    # anchor 50 m north of the road at 1500 m; eastbound (south side) stops 70 m and 30 m along
    # from it, westbound (north side) stops 120 m and 40 m along
    anchor = Place("가상역", "Virtual Station", "point", *at(1500.0, 50.0), 11410)
    bus = [
        stop("13010", 1570.0, -8.0),  # sqrt(70^2 + 58^2) = 90.9 m
        stop("13011", 1530.0, -8.0),  # sqrt(30^2 + 58^2) = 65.3 m
        stop("13012", 1380.0, 8.0),  # sqrt(120^2 + 42^2) = 127.1 m
        stop("13013", 1460.0, 8.0),  # sqrt(40^2 + 42^2) = 58.0 m
    ]
    idx = stops.build_stop_index(G, bus)
    east, west = stops.place_route_stops(G, [path, path[::-1]], idx, scenario, anchors=[anchor])
    for ps, ars, m in ((east, "13011", 65.3), (west, "13013", 58.0)):
        (a,) = [p for p in ps if p.anchor == "가상역"]
        assert a.ars == ars
        assert a.anchor_m == pytest.approx(m, abs=0.5)


# ----------------------------------------------------------------------------------------------
# issue 8 item 4 on the default plan, checked against the raw stop file


def _raw_bus_stops(scenario: Scenario) -> list[tuple[str, str, float, float]]:
    """(ARS, name, lat, lon) of every non-virtual row of Seoul's stop file, read with csv alone
    (columns NODE_ID, ARS_ID, name, X lon, Y lat, type; a name may contain commas)."""
    import csv
    from pathlib import Path

    out = []
    path = Path(scenario.data_dir) / "stops" / "seoul_bus_stop_locations_2024-01.csv"
    with path.open(encoding="utf-8") as f:
        for row in csv.reader(f):
            if row[-1].strip() == "가상정류장":
                continue
            ars = row[1].strip()
            ars = ars.zfill(5) if ars.isdigit() else ars
            out.append((ars, ",".join(row[2:-3]), float(row[-2]), float(row[-3])))
    return out


def _metres(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """Local east/north metres of (lat, lon) from (lat0, lon0) (equirectangular)."""
    return (
        (lon - lon0) * M_PER_DEG_LAT * math.cos(math.radians(lat0)),
        (lat - lat0) * M_PER_DEG_LAT,
    )


def test_plan_no_new_stop_near_an_unused_bus_stop(designs, scenario: Scenario) -> None:  # noqa: ANN001
    """No new stop of a route, its terminals included, stands within stops.real_stop_snap_m of
    a bus stop the plan does not use on the same carriageway side (issue 8 item 4: the right of
    the way of travel, or a median bus-lane stop, which serves both ways). A new terminal stop on
    a turnaround loop keeps the real stop its direction reached before it (design._stays)."""
    import csv
    from pathlib import Path

    d = designs["anneal"]
    raw = _raw_bus_stops(scenario)
    path = Path(scenario.data_dir) / "stops" / "seoul_bus_stop_locations_2024-01.csv"
    with path.open(encoding="utf-8") as f:  # median (bus-lane) stops serve both directions
        median = {r[1].strip().zfill(5) for r in csv.reader(f) if r[-1].strip() == "중앙차로"}
    used = {s.ars for s in d.stops if s.ars}
    new = [s for s in d.stops if s.ars is None]
    assert new
    # the heading of travel at each new stop, from the shape of a pattern that serves it
    heading: dict[str, list[tuple[float, float]]] = {}
    for r in d.routes:
        for p in r.patterns:
            for sid in p.stop_ids:
                st = next((s for s in new if s.stop_id == sid), None)
                if st is None:
                    continue
                pts = [_metres(st.lat, st.lon, la, lo) for la, lo in p.shape]
                k = min(range(len(pts) - 1), key=lambda i: math.hypot(*pts[i]))
                (x0, y0), (x1, y1) = pts[k], pts[k + 1]
                heading.setdefault(sid, []).append((x1 - x0, y1 - y0))

    def same_side(s, lat: float, lon: float, ars: str) -> bool:  # noqa: ANN001
        """Right of the way of travel (Korea drives on the right), or a median stop."""
        if ars in median:
            return True
        vx, vy = _metres(s.lat, s.lon, lat, lon)
        return any(hx * vy - hy * vx <= 0 for hx, hy in heading.get(s.stop_id, [(0, 0)]))

    snap = scenario.stops.real_stop_snap_m
    close = [
        (s.name_ko, name, ars, round(geo.haversine_m(s.lat, s.lon, lat, lon)))
        for s in new
        for ars, name, lat, lon in raw
        if ars not in used
        and abs(lat - s.lat) < 0.002
        and abs(lon - s.lon) < 0.003
        and geo.haversine_m(s.lat, s.lon, lat, lon) <= snap
        and same_side(s, lat, lon, ars)
    ]
    assert close == [], close


def test_plan_anchor_stops_and_distances(designs, scenario: Scenario) -> None:  # noqa: ANN001
    """Each anchor is served; its stop's distance is the straight line from the anchor (to the
    stop file's position for a bus stop); in each direction, the anchor's stop is no farther
    than the nearest bus stop within ``stops.new_stop_radius_m`` of the anchor that stands
    within 12 m right of that direction's shape."""
    d = designs["anneal"]
    raw = {ars: (lat, lon) for ars, _, lat, lon in _raw_bus_stops(scenario)}
    plc = {p.name_ko: p for p in places.resolve_places(scenario)}
    by_id = {s.stop_id: s for s in d.stops}
    served = {s.anchor for s in d.stops if s.anchor}
    assert served == set(plc)
    radius = scenario.stops.new_stop_radius_m
    for s in d.stops:
        if not s.anchor:
            continue
        a = plc[s.anchor]
        lat, lon = raw[s.ars] if s.ars else (s.lat, s.lon)
        assert s.anchor_m == pytest.approx(geo.haversine_m(a.lat, a.lon, lat, lon), abs=1.0)
    for r in d.routes:
        for p in r.patterns:
            # the stop that serves each anchor in this direction: the nearest one labelled with
            # it (a terminal loop may pass a second stop near the same anchor)
            mine: dict[str, object] = {}
            for i in p.stop_ids:
                s = by_id[i]
                if s.anchor and (s.anchor not in mine or s.anchor_m < mine[s.anchor].anchor_m):
                    mine[s.anchor] = s
            for s in mine.values():
                a = plc[s.anchor]
                near = [
                    (geo.haversine_m(a.lat, a.lon, lat, lon), ars)
                    for ars, (lat, lon) in raw.items()
                    if geo.haversine_m(a.lat, a.lon, lat, lon) <= radius
                ]
                right = [(m, ars) for m, ars in near if _right_of_shape(p.shape, *raw[ars], 12.0)]
                if right:
                    m, ars = min(right)
                    assert s.anchor_m <= m + 1.0, (r.route_id, p.direction_id, s.anchor, ars, m)


def _right_of_shape(shape, lat: float, lon: float, max_m: float) -> bool:  # noqa: ANN001
    """Whether a point lies within ``max_m`` of a (lat, lon) polyline, on its right."""
    best = (math.inf, 0.0)
    for (la1, lo1), (la2, lo2) in zip(shape, shape[1:], strict=False):
        ax, ay = _metres(lat, lon, la1, lo1)
        bx, by = _metres(lat, lon, la2, lo2)
        dx, dy = bx - ax, by - ay
        n2 = dx * dx + dy * dy
        t = 0.0 if n2 == 0 else min(1.0, max(0.0, -(ax * dx + ay * dy) / n2))
        px, py = ax + t * dx, ay + t * dy
        dist = math.hypot(px, py)
        if dist < best[0]:
            best = (dist, dx * (0.0 - ay) - dy * (0.0 - ax))  # cross(segment, point - a)
    return best[0] <= max_m and best[1] < 0


def test_plan_new_stops_in_pairs(designs, scenario: Scenario) -> None:  # noqa: ANN001
    """A new stop along a route whose road the other direction runs the other way (its shape
    within 30 m) has a stop of that direction across the road: a new stop of its name within
    60 m, or a bus stop (the partner within stops.real_stop_snap_m + 25 m; where bus stops
    stand all around and none across, no new partner is made and the other direction's bus
    stop stands within min_spacing_m / 2). Route ends (a terminal and the stop next to it) are
    left out: the turnaround join moves them."""
    d = designs["anneal"]
    by_id = {s.stop_id: s for s in d.stops}
    near_m = scenario.stops.min_spacing_m / 2
    lonely = []
    for r in d.routes:
        for p in r.patterns:
            other = next(q for q in r.patterns if q is not p)
            theirs = [by_id[i] for i in other.stop_ids]
            for sid in p.stop_ids[2:-2]:
                s = by_id[sid]
                if s.ars is not None or not _near_shape(other.shape, s.lat, s.lon, 30.0):
                    continue
                if not any(
                    (t.ars is None and t.name_ko == s.name_ko and _m(s, t) <= 60.0)
                    or (t.ars is not None and _m(s, t) <= near_m)
                    for t in theirs
                ):
                    lonely.append((r.route_id, p.direction_id, s.name_ko))
    assert lonely == [], lonely


def _m(a, b) -> float:  # noqa: ANN001
    return geo.haversine_m(a.lat, a.lon, b.lat, b.lon)


def _near_shape(shape, lat: float, lon: float, max_m: float) -> bool:  # noqa: ANN001
    """Whether a point lies within ``max_m`` of a (lat, lon) polyline."""
    for (la1, lo1), (la2, lo2) in zip(shape, shape[1:], strict=False):
        ax, ay = _metres(lat, lon, la1, lo1)
        bx, by = _metres(lat, lon, la2, lo2)
        dx, dy = bx - ax, by - ay
        n2 = dx * dx + dy * dy
        t = 0.0 if n2 == 0 else min(1.0, max(0.0, -(ax * dx + ay * dy) / n2))
        if math.hypot(ax + t * dx, ay + t * dy) <= max_m:
            return True
    return False
