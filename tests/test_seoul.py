"""The city-wide scenario ``seoul`` and the cap on key nodes (``design.max_key_nodes``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import Point, box, shape

from shuttle import keynet, paths
from shuttle.config import Scenario, load_scenario
from shuttle.errors import ConfigError
from shuttle.model import Place

BOUNDARIES = "boundaries/seoul_municipalities_juso2015.geojson"


@pytest.fixture(scope="module")
def seoul(data_dir: Path) -> Scenario:
    return load_scenario("seoul", data_dir=data_dir)


@pytest.fixture(scope="module")
def gu_polygons(data_dir: Path) -> dict[int, tuple[str, object]]:
    """The 25 gu of the boundary file, read here with json + shapely: code -> (name, polygon)."""
    gj = json.loads((data_dir / BOUNDARIES).read_text(encoding="utf-8"))
    return {
        int(f["properties"]["SIG_CD"]): (f["properties"]["SIG_KOR_NM"], shape(f["geometry"]))
        for f in gj["features"]
    }


def test_seoul_loads_and_validates(seoul: Scenario, gu_polygons: dict) -> None:
    # every gu of the boundary file (25), each once
    assert sorted(seoul.districts) == sorted(gu_polygons)
    assert len(gu_polygons) == 25
    assert len(set(seoul.districts)) == 25
    # the [baseline] graph is all Seoul + 2 km with the same classes: one cached graph for both
    assert seoul.network.buffer_m == seoul.baseline.buffer_m
    assert tuple(seoul.network.classes) == tuple(seoul.baseline.classes)
    assert list(seoul.districts) == sorted(seoul.districts)
    # coverage of zones is an objective: a cap above the anchors
    assert seoul.design.max_key_nodes > len(seoul.anchors)
    assert seoul.budget.fleet is not None
    assert seoul.budget.fleet > 0


def test_max_key_nodes_validated(tmp_path: Path, data_dir: Path) -> None:
    src = Path(load_scenario("seoul", data_dir=data_dir).source_file or "")
    text = src.read_text(encoding="utf-8").replace("max_key_nodes = 60", "max_key_nodes = -3")
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="max_key_nodes"):
        load_scenario(bad, data_dir=data_dir)
    # nw3 keeps the default: no cap
    assert load_scenario("nw3", data_dir=data_dir).design.max_key_nodes == 0


def test_seoul_district_offices_resolve(seoul: Scenario, gu_polygons: dict) -> None:
    from shuttle import places

    resolved = places.resolve_places(seoul)
    assert len(resolved) == len(seoul.anchors)
    by_name = {p.name_ko: p for p in resolved}
    offices = {code: f"{name}청" for code, (name, _) in gu_polygons.items()}
    # one anchor per district office named in the boundary file: 25 of them
    assert sum(1 for p in resolved if p.name_ko in offices.values()) == 25
    for code, office in sorted(offices.items()):
        p = by_name[office]
        poly = gu_polygons[code][1]
        # the office lies in its own gu (a district office always does)
        assert poly.contains(Point(p.lon, p.lat)), (office, p.lat, p.lon)
        assert p.district == code
    # the interchanges are stations inside Seoul
    union = shape({"type": "MultiPolygon", "coordinates": []})
    for _, poly in gu_polygons.values():
        union = union.union(poly)
    for p in resolved:
        if p.kind == "station":
            assert union.contains(Point(p.lon, p.lat)), p.name_ko


# --- the cap on key nodes, on a hand-built grid ----------------------------------------------

LAT0, LON0 = 37.55, 126.95
STEP = 0.006  # about 530 m north-south, 670 m east-west


def _grid(n: int = 6) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(crs="epsg:4326")
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j, y=LAT0 + i * STEP, x=LON0 + j * STEP)
    for i in range(n):
        for j in range(n):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < n and j + dj < n:
                    u, v = i * n + j, (i + di) * n + (j + dj)
                    for a, b in ((u, v), (v, u)):
                        G.add_edge(a, b, 0, length=600.0, travel_time=80.0, highway="primary")
    return G


def _zone(code: str, node: int, G: nx.MultiDiGraph, population: int) -> SimpleNamespace:
    x, y = G.nodes[node]["x"], G.nodes[node]["y"]
    return SimpleNamespace(
        code=code,
        name_ko=f"동{code}",
        population=population,
        geometry=box(x - 0.002, y - 0.002, x + 0.002, y + 0.002),
    )


def _place(name: str, node: int, G: nx.MultiDiGraph) -> Place:
    return Place(
        name_ko=name,
        name_en=name,
        kind="point",
        lat=G.nodes[node]["y"],
        lon=G.nodes[node]["x"],
        district=None,
    )


def _case(scenario: Scenario, cap: int):  # noqa: ANN202
    G = _grid()
    rm = paths.road_matrix(G, "travel_time")
    # two anchors at border nodes (three exits each), five zones at inner nodes
    places = [_place("A", 1, G), _place("B", 34, G)]
    znodes = [7, 10, 14, 21, 28]
    # population rises along the list, demand falls: the cap must follow demand
    zones = [_zone(f"z{k}", nd, G, population=1000 * (k + 1)) for k, nd in enumerate(znodes)]
    trips = np.zeros((5, 5))
    trips[0, 1] = 50.0  # z0 and z1 carry the most demand
    trips[1, 0] = 40.0
    trips[0, 2] = 5.0  # z2 a little
    trips[3, 4] = 1.0  # z3 and z4 least
    sc = dataclasses.replace(
        scenario, design=dataclasses.replace(scenario.design, max_key_nodes=cap)
    )
    kn = keynet.key_network(G, rm, sc, places, zones, trips, znodes, merge_radius_m=100.0)
    return kn, znodes, trips


def test_cap_keeps_anchors_and_the_zones_of_most_demand(scenario: Scenario) -> None:
    kn, znodes, trips = _case(scenario, cap=0)
    # no cap: 2 anchors + 5 zones, nothing left out, all the demand
    assert len(kn.nodes) == 7
    assert kn.zones_left_out == ()
    assert kn.demand.sum() == pytest.approx(96.0)

    kn, znodes, trips = _case(scenario, cap=4)
    assert len(kn.nodes) == 4
    assert kn.nodes[:2] == (1, 34)  # the anchors, first and always
    assert kn.anchors[:2] == ((0,), (1,))
    # z0 (50 + 40 + 5 trip ends... 95) and z1 (90) kept; z2 (5), z3 (1), z4 (1) left out
    assert set(kn.nodes[2:]) == {7, 10}
    assert kn.zones_left_out == (2, 3, 4)
    assert kn.zone_key[2:] == (-1, -1, -1)
    # key demand: only the trips between kept zones (50 + 40)
    assert kn.demand.sum() == pytest.approx(90.0)
    assert kn.link.shape == (4, 4)


def test_cap_below_the_anchors_keeps_every_anchor(scenario: Scenario) -> None:
    kn, _, _ = _case(scenario, cap=1)
    assert kn.nodes == (1, 34)
    assert kn.anchors == ((0,), (1,))
    assert kn.zones_left_out == (0, 1, 2, 3, 4)
    assert kn.demand.sum() == 0.0


def test_cap_not_hit_keeps_the_uncapped_network(scenario: Scenario) -> None:
    a, _, _ = _case(scenario, cap=0)
    b, _, _ = _case(scenario, cap=7)
    assert a.nodes == b.nodes
    assert a.zone_key == b.zone_key
    assert np.array_equal(a.demand, b.demand)
    assert np.array_equal(a.link, b.link)


def test_capped_anchor_without_turnable_node_in_reach_keeps_its_own_node(
    scenario: Scenario,
) -> None:
    # a corner of the grid has two exits, so it is no turnable key node; the nearest turnable
    # node is its east neighbour (0.006 deg of longitude, about 530 m; north is about 666 m)
    G = _grid()
    rm = paths.road_matrix(G, "travel_time")
    places = [_place("corner", 0, G), _place("B", 34, G)]
    zones = [_zone("z0", 14, G, population=1000)]
    trips = np.zeros((1, 1))

    def build(cap: int) -> keynet.KeyNetwork:
        sc = dataclasses.replace(
            scenario, design=dataclasses.replace(scenario.design, max_key_nodes=cap)
        )
        return keynet.key_network(G, rm, sc, places, zones, trips, [14], merge_radius_m=100.0)

    assert build(0).nodes[0] == 1  # no cap: the turnable node, as before
    assert build(0).turnable == (True, True, True)
    # with a cap (big areas): farther than ANCHOR_REACH_M, so the anchor's own road node,
    # where no route may end (two exits): a route end there moves to a turnable node beyond
    assert keynet.ANCHOR_REACH_M < 530.0
    assert build(5).nodes[0] == 0
    assert build(5).turnable == (False, True, True)


# --- the whole city: designed, every route end a turnaround, no reversal ----------------------


def test_seoul_designs_every_anchor_with_no_reversal(seoul: Scenario, cache_dir: Path) -> None:
    """The city-wide scenario designs (issue 13), with ``design.routes`` routes serving every
    anchor, and no route reverses: the shapes of both directions, joined at both ends as a bus
    drives them, never turn by more than the limit within REVERSAL_WINDOW_M of road (the same
    walk as the default feed's test)."""
    from test_reversals import TURN_SLACK_DEG, _reversals

    from shuttle import design, network
    from shuttle.router import REVERSAL_WINDOW_M

    G = network.load_graph(seoul, cache_dir=cache_dir)
    d = design.design_network(G, seoul, method=seoul.design.method)
    assert len(d.routes) == seoul.design.routes
    served = {s.anchor for s in d.stops if s.anchor}
    assert served == {a.name for a in seoul.anchors}
    limit = seoul.design.max_turn_deg + TURN_SLACK_DEG
    found = []
    for r in d.routes:
        a, b = (list(p.shape) for p in r.patterns)
        # out, back, out again: both turnarounds and both joins
        walk = a + b[1:] + a[1:]
        turns = _reversals(walk, REVERSAL_WINDOW_M, limit)
        found += [(r.route_id, k, round(net)) for k, net in turns]
    assert found == []
