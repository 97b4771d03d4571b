"""Bus stops: reading, snapping to the edge they serve, placement along a path, catchment."""

from __future__ import annotations

import math
import re

import networkx as nx
import numpy as np
import pytest
import shapely

from shuttle import areas, geo, network, paths, places, stops
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
    assert all(p.name_ko == "테스트로" for p in ps)  # no landmark near: the road's name
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
    assert geo.haversine_m(a.lat, a.lon, *at(1500.0, 0.0)) < 5.0  # on the road
    # a bus stop 120 m from the anchor serves it instead of a new stop
    idx2 = stops.build_stop_index(G, [*far_stops, stop("13003", 1560.0, -8.0)])
    ps2 = stops.place_stops(G, path, idx2, scenario, anchors=[anchor])
    (a2,) = [p for p in ps2 if p.anchor == "가상구청"]
    assert a2.ars == "13003"
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
    assert {p.name_ko for p in named} == {"테스트초등학교", "테스트로"}


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
